"""Threat: the same message delivered twice (Twilio's retries, the fallback URL) or replayed.

Each MessageSid is answered once: repeats get the first answer and the reply code runs once
(Powertools Idempotency on DynamoDB, in moto).
"""

import boto3
import pytest
from moto import mock_aws
from twilio_requests import REST_URL, SMS, rest_event, signed, with_fields

import handler

TABLE = "IdempotencyTable"


@pytest.fixture
def table(monkeypatch):
    """The idempotency table as template.yaml creates it."""
    monkeypatch.setenv("IDEMPOTENCY_TABLE", TABLE)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


@pytest.fixture
def replies(monkeypatch):
    """Reply code that numbers its answers, so a repeated answer can be told from a new one."""
    calls = []

    def numbered(message):
        calls.append(message.sid)
        return f"answer number {len(calls)}"

    monkeypatch.setattr(handler, "reply", numbered)
    return calls


def delivery(sid: str = "SM0123456789abcdef0123456789abcdef") -> dict:
    fields = with_fields(SMS, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    return signed(rest_event(fields=fields), REST_URL, fields)


def test_a_repeated_delivery_gets_the_first_answer(table, invoke, replies):
    first = invoke(delivery())

    again = invoke(delivery())

    assert again["body"] == first["body"]
    assert "answer number 1" in again["body"]


def test_the_reply_code_runs_once_per_message(table, invoke, replies):
    for _ in range(3):
        invoke(delivery())

    assert len(replies) == 1


def test_a_replayed_request_runs_nothing_again(table, invoke, replies):
    captured = delivery()
    invoke(captured)

    replayed = invoke(captured)

    assert replayed["statusCode"] == 200
    assert len(replies) == 1


def test_another_message_gets_its_own_answer(table, invoke, replies):
    invoke(delivery("SM1111111111111111111111111111111a"))

    second = invoke(delivery("SM2222222222222222222222222222222b"))

    assert "answer number 2" in second["body"]


def test_a_copy_arriving_while_the_first_is_answered_gets_an_empty_answer(
    table, invoke, monkeypatch, logs
):
    copies = []

    def reply_while_a_copy_arrives(message):
        copies.append(invoke(delivery()))
        return "the only answer"

    monkeypatch.setattr(handler, "reply", reply_while_a_copy_arrives)

    first = invoke(delivery())

    [copy] = copies
    assert (copy["statusCode"], copy["body"]) == (
        200,
        '<?xml version="1.0" encoding="UTF-8"?><Response />',
    )
    assert ">the only answer</Message>" in first["body"]
    assert "duplicate delivery while the first is answered" in logs.messages()


def test_a_failed_answer_is_not_remembered(table, invoke, monkeypatch):
    def failing(message):
        raise RuntimeError("bug")

    monkeypatch.setattr(handler, "reply", failing)
    invoke(delivery())
    monkeypatch.setattr(handler, "reply", lambda message: "fixed")

    assert ">fixed</Message>" in invoke(delivery())["body"]


def test_the_record_holds_a_hash_of_the_sid_and_the_answer_only(table, invoke, replies):
    invoke(delivery())

    [item] = table.scan(TableName=TABLE)["Items"]
    assert set(item) == {"id", "expiration", "in_progress_expiration", "status", "data"}
    assert "SM0123456789abcdef0123456789abcdef" not in item["id"]["S"]
    assert "+1415" not in str(item)


def test_with_idempotency_off_every_delivery_runs_the_reply_code(invoke, replies):
    invoke(delivery())
    invoke(delivery())

    assert len(replies) == 2


def test_a_message_without_a_sid_is_answered_without_a_record(table, invoke, replies):
    fields = [(name, value) for name, value in SMS if not name.endswith("Sid")]
    invoke(signed(rest_event(fields=fields), REST_URL, fields))

    assert table.scan(TableName=TABLE)["Items"] == []
