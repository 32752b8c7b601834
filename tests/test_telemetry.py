"""How senders appear in logs: a pseudonym per deployment, never the number; log lines as
Powertools writes them."""

import logging
import re

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from sms_webhook.telemetry import JsonLines, pseudonym

SECRET = "the-secret-the-request-was-signed-with"


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("+14155551234", "+1…34"),
        ("+79161234567", "+7…67"),
        ("+447700900123", "+44…23"),
        ("+819012345678", "+81…78"),
        ("+35312345678", "+353…78"),
        ("whatsapp:+14155551234", "whatsapp:+1…34"),
        ("12345", "…45"),
        ("messenger:alice.b", "messenger:"),
        ("", ""),
    ],
)
def test_a_sender_shows_at_most_the_country_code_and_last_two_digits(address, shown):
    assert re.fullmatch(rf"{re.escape(shown)}#[0-9a-f]{{8}}", pseudonym(address, SECRET))


def test_the_same_sender_gets_the_same_pseudonym_with_the_same_secret():
    assert pseudonym("+14155551234", SECRET) == pseudonym("+14155551234", SECRET)


def test_senders_sharing_country_code_and_last_digits_get_different_pseudonyms():
    assert pseudonym("+14155551234", SECRET) != pseudonym("+12125550034", SECRET)


def test_without_the_secret_the_pseudonym_cannot_be_recomputed():
    assert pseudonym("+14155551234", SECRET) != pseudonym("+14155551234", "a guess")


def a_record(message: object, *args: object, exc_info: bool = False, **extra: object):
    error = None
    if exc_info:
        try:
            raise ValueError("boom")
        except ValueError as raised:
            error = (ValueError, raised, raised.__traceback__)
    return logging.getLogger("test").makeRecord(
        "test", logging.INFO, "handler.py", 12, message, args, error, "answer", extra
    )


@pytest.mark.parametrize(
    "record",
    [
        a_record("incoming message", body_length=3, _aws={"Metrics": [{"Name": "A"}]}, n=1),
        a_record("a sender +1…34", empty=None, text="こんにちは", flag=False),
        a_record(""),
        a_record("with its own stack_trace", stack_trace="kept?", xray_trace_id="mine"),
        a_record('{"message": "JSON, which Powertools reads"}'),
        a_record(" 12"),
        a_record("NaN"),
        a_record({"a": "dict"}),
        a_record("%s and %d", "arguments", 2),
        a_record("an error", exc_info=True),
    ],
)
def test_lines_are_powertools_own(record, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1")
    ours, theirs = JsonLines(), LambdaPowertoolsFormatter()
    for formatter in (ours, theirs):
        formatter.append_keys(service="webhook", cold_start=False, correlation_id=None)
    assert ours.format(record) == theirs.format(record)


@pytest.mark.filterwarnings("ignore:POWERTOOLS_DEV")  # Powertools says it is on: it is
def test_lines_are_indented_as_powertools_indents_them_for_development(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    record = a_record("incoming message", _aws={"Metrics": [{"Name": "A"}]})

    assert JsonLines().format(record) == LambdaPowertoolsFormatter().format(record)


def test_lines_keep_powertools_keys_of_the_thread():
    ours, theirs = JsonLines(), LambdaPowertoolsFormatter()
    record = a_record("incoming message", n=1)
    ours.thread_safe_append_keys(request="r1", level="%(levelname)s")
    try:
        assert ours.format(record) == theirs.format(record)
    finally:
        ours.thread_safe_clear_keys()
