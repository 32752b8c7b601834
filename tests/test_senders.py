"""What is kept per sender: consent, in DynamoDB deployed and in a file of yours locally."""

import json
import time
from types import SimpleNamespace

import boto3
import pytest

from sms_webhook import senders
from sms_webhook.senders import SendersUnavailableError, opted_out, record_consent
from tests.conftest import SENDERS_TABLE
from tests.support.twilio_requests import TWILIO_NUMBER

PERSON = "+14155550199"


@pytest.fixture(params=["table", "file"])
def store(request):
    """Each store: the deployed table (moto), and a local run's file."""
    if request.param == "table":
        request.getfixturevalue("senders_table")


@pytest.mark.usefixtures("store")
def test_nobody_has_opted_out_at_first():
    assert not opted_out(TWILIO_NUMBER, PERSON)


@pytest.mark.usefixtures("store")
def test_an_opt_out_is_remembered_for_that_number_and_sender_only():
    assert record_consent(TWILIO_NUMBER, PERSON, opted_out=True)

    assert opted_out(TWILIO_NUMBER, PERSON)
    assert not opted_out(TWILIO_NUMBER, "+14155550100")
    assert not opted_out("+15005550001", PERSON)


@pytest.mark.usefixtures("store")
def test_an_opt_in_reverses_an_opt_out():
    record_consent(TWILIO_NUMBER, PERSON, opted_out=True)
    assert record_consent(TWILIO_NUMBER, PERSON, opted_out=False, only_if_opted_out=True)

    assert not opted_out(TWILIO_NUMBER, PERSON)


@pytest.mark.usefixtures("store")
def test_an_opt_in_only_if_opted_out_is_none_for_who_had_not_opted_out():
    assert not record_consent(TWILIO_NUMBER, PERSON, opted_out=False, only_if_opted_out=True)


def test_an_opted_out_item_never_expires_and_an_opted_in_one_does(senders_table):
    key = {"id": {"S": f"{TWILIO_NUMBER} {PERSON}"}}
    record_consent(TWILIO_NUMBER, PERSON, opted_out=False)
    expires = int(
        senders_table.get_item(TableName=SENDERS_TABLE, Key=key)["Item"]["expires_at"]["N"]
    )
    assert expires >= time.time() + senders.KEPT - 60

    record_consent(TWILIO_NUMBER, PERSON, opted_out=True)

    item = senders_table.get_item(TableName=SENDERS_TABLE, Key=key)["Item"]
    assert "expires_at" not in item
    assert item["opted_out"] == {"BOOL": True}


def test_locally_the_records_are_a_file_beside_the_conversations_yours_alone(tmp_path):
    record_consent(TWILIO_NUMBER, PERSON, opted_out=True)

    kept = tmp_path / "senders.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert json.loads(kept.read_text())[f"{TWILIO_NUMBER} {PERSON}"]["opted_out"] is True


def test_senders_file_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SENDERS_FILE", str(tmp_path / "elsewhere" / "consent.json"))

    record_consent(TWILIO_NUMBER, PERSON, opted_out=True)

    assert (tmp_path / "elsewhere" / "consent.json").exists()
    assert not (tmp_path / "senders.json").exists()


def test_without_a_table_or_a_file_nothing_is_kept(monkeypatch):
    monkeypatch.delenv("CONVERSATION_FILE")

    assert not record_consent(TWILIO_NUMBER, PERSON, opted_out=True)
    assert not opted_out(TWILIO_NUMBER, PERSON)


@pytest.mark.usefixtures("aws_account")
def test_a_table_out_of_reach_is_logged_counted_and_raised(monkeypatch, logs, published):
    monkeypatch.setenv("SENDERS_TABLE", "NoSuchTable")

    with pytest.raises(SendersUnavailableError):
        opted_out(TWILIO_NUMBER, PERSON)

    assert "senders store unavailable" in logs.messages()
    assert [metric["name"] for metric in published()] == ["SendersStoreFailures"]


def test_the_table_is_read_consistently_once(senders_table, monkeypatch):
    calls = []
    client = boto3.client("dynamodb")
    monkeypatch.setattr(senders, "aws", SimpleNamespace(client=lambda _: client))
    read = client.get_item

    def recorded(**call):
        calls.append(call)
        return read(**call)

    monkeypatch.setattr(client, "get_item", recorded)

    opted_out(TWILIO_NUMBER, PERSON)

    [call] = calls
    assert call["ConsistentRead"] is True
