"""Threat: secrets or phone numbers escaping through logs, metrics or answers.

Every test of the suite is already checked (conftest's `logs` fixture searches everything the
function logged or printed for the auth tokens, the SharedKey secret and full phone numbers).
These tests drive the paths most likely to leak, at DEBUG, and check the answers too.
"""

import boto3
import pytest
from moto import mock_aws
from twilio_requests import (
    PREVIOUS_TOKEN,
    REST_URL,
    SENDER,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SMS,
    SSM_TOKEN,
    form,
    leaked,
    rest_event,
    signed,
    signed_with_shared_key,
)

from sms_webhook.telemetry import logger


@pytest.fixture
def deployed(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", "/twilio/auth-token")
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", "/twilio/webhook-keys")
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(
            Name="/twilio/auth-token", Value=f"{SSM_TOKEN},{PREVIOUS_TOKEN}", Type="SecureString"
        )
        ssm.put_parameter(
            Name=f"/twilio/webhook-keys/{SHARED_KEY_ID}",
            Value=SHARED_KEY_SECRET,
            Type="SecureString",
        )
        yield


def every_kind_of_request() -> list[dict]:
    return [
        signed(rest_event(), REST_URL, token=SSM_TOKEN),
        signed(rest_event(), REST_URL, token=PREVIOUS_TOKEN),
        signed(rest_event("GET"), f"{REST_URL}?{form(SMS)}", token=SSM_TOKEN),
        signed_with_shared_key(rest_event(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET),
        signed_with_shared_key(rest_event(), REST_URL, SHARED_KEY_ID, "wrong"),
        signed(rest_event(), REST_URL, token="forged"),
        signed(rest_event("GET"), f"{REST_URL}?{form(SMS)}", token="forged"),
        rest_event(),
        {"body": SENDER},
    ]


def test_nothing_secret_is_logged_even_at_debug(deployed, invoke, logs):
    logger.setLevel("DEBUG")

    for event in every_kind_of_request():
        invoke(event)

    assert logs.records
    assert leaked(logs.text) == []


def test_nothing_secret_is_in_any_answer(deployed, invoke):
    answers = [invoke(event) for event in every_kind_of_request()]

    assert [leaked(str(answer)) for answer in answers] == [[]] * len(answers)


def test_the_sender_is_logged_masked(deployed, invoke, logs):
    invoke(signed(rest_event(), REST_URL, token=SSM_TOKEN))

    assert logs.records[-1]["from"] == "+1415***1234"


def test_the_leak_check_finds_a_number_or_a_secret_when_there_is_one():
    assert leaked(f"sent from {SENDER} with {SHARED_KEY_SECRET}") == [SHARED_KEY_SECRET, SENDER]
