"""Threat: secrets or phone numbers escaping through logs, metrics or answers.

Every test of the suite is already checked (conftest's `logs` fixture searches everything the
function logged or printed for the auth tokens, the SharedKey secret and full phone numbers).
These tests drive the paths most likely to leak, at DEBUG, and check the answers too.
"""

import importlib
import logging
import re

import pytest

import handler
from devtools.twilio_message import form_encode
from sms_webhook.telemetry import logger
from tests.conftest import TOKEN_PARAMETER, put_secret
from tests.support.twilio_requests import (
    PREVIOUS_TOKEN,
    REST_URL,
    SENDER,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SMS,
    SSM_TOKEN,
    leaked,
    rest_request,
    signed,
    signed_with_shared_key,
)


@pytest.fixture
def rotating_token(ssm):
    """A deployed function during a rotation: SSM holds the new and the previous token."""
    put_secret(ssm, TOKEN_PARAMETER, f"{SSM_TOKEN},{PREVIOUS_TOKEN}")


def every_kind_of_request() -> list[dict]:
    return [
        signed(rest_request(), REST_URL, token=SSM_TOKEN),
        signed(rest_request(), REST_URL, token=PREVIOUS_TOKEN),
        signed(rest_request("GET"), f"{REST_URL}?{form_encode(SMS)}", token=SSM_TOKEN),
        signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET),
        signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, "wrong"),
        signed(rest_request(), REST_URL, token="forged"),
        signed(rest_request("GET"), f"{REST_URL}?{form_encode(SMS)}", token="forged"),
        rest_request(),
        {"body": SENDER},
    ]


def test_nothing_secret_is_logged_even_at_debug(rotating_token, invoke, logs):
    logger.setLevel("DEBUG")

    for event in every_kind_of_request():
        invoke(event)

    assert logs.records
    assert leaked(logs.text) == []


def test_nothing_secret_is_in_any_answer(rotating_token, invoke):
    answers = [invoke(event) for event in every_kind_of_request()]

    assert [leaked(str(answer)) for answer in answers] == [[]] * len(answers)


def test_nothing_secret_is_logged_with_the_root_logger_at_debug(rotating_token, invoke, caplog):
    caplog.set_level(logging.DEBUG)  # what Lambda's ApplicationLogLevel DEBUG does

    for event in every_kind_of_request():
        invoke(event)

    logged = "\n".join(f"{record.getMessage()} {record.args}" for record in caplog.records)
    assert leaked(logged) == []


@pytest.fixture
def log_event_asked_for(monkeypatch):
    """The handler as imported where `POWERTOOLS_LOGGER_LOG_EVENT=true` is set."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    importlib.reload(handler)
    yield
    monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
    importlib.reload(handler)


def test_events_are_never_logged_whatever_the_environment_says(log_event_asked_for, invoke, logs):
    event = signed(rest_request(), REST_URL)

    invoke(event)

    assert event["headers"]["X-Twilio-Signature"] not in logs.text
    assert "How+are+you+doing" not in logs.text
    assert [record["message"] for record in logs.records] == ["incoming message"]


def test_credentials_in_a_configured_url_are_not_logged(monkeypatch, invoke, logs):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://twilio:hunter2@example.com/sms")

    invoke(signed(rest_request(), REST_URL, token="forged"))

    [rejection] = logs.records
    assert rejection["url"] == "https://example.com/sms"
    assert "hunter2" not in logs.text


def test_the_sender_is_logged_as_a_pseudonym_with_two_digits_at_most(rotating_token, invoke, logs):
    invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))

    sender = logs.records[-1]["from"]
    assert re.fullmatch(r"\+1…34#[0-9a-f]{8}", sender)
    assert not re.search(r"\d{3}", sender.partition("#")[0])


def test_one_sender_has_one_pseudonym_across_requests(rotating_token, invoke, logs):
    for _ in range(2):
        invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))

    assert len({record["from"] for record in logs.records if "from" in record}) == 1


def test_the_leak_check_finds_a_number_or_a_secret_when_there_is_one():
    found = leaked(f"sent from {SENDER} with {SHARED_KEY_SECRET}")

    assert found == [SHARED_KEY_SECRET, SENDER, "+1415555"]
