"""Threat: a conversation that outgrows what DynamoDB holds in an item (400 KB). Handlers keep
chat logs in `state` (a language model's memory), and history keeps whole texts.

The limit is the same locally and deployed, measured on the item before it is written. History
is trimmed oldest first, by bytes, so that the conversation is still saved; a state too large to
fit alone is not saved, and that is logged and counted as such ("conversation too large", with
its size), never as an outage of the store. The reply goes out all the same.
"""

import json

import boto3
import pytest

from devtools.twilio_message import SENDER, TWILIO_NUMBER, message_fields, new_message_sid
from sms_webhook.conversation import conversation_key
from sms_webhook.conversation_store import MAX_ITEM_BYTES, Stored, dynamodb_item, item_bytes
from sms_webhook.router import Router
from tests.conftest import CONVERSATION_TABLE, create_table
from tests.support.twilio_requests import REST_URL, rest_request, signed

KEY = conversation_key(TWILIO_NUMBER, SENDER)
LONGEST_TEXT = "会話の記録" * 320
"""1,600 characters, the longest body Twilio delivers: 4,800 bytes in UTF-8."""
TURNS_TO_FILL_AN_ITEM = 45
"""Messages that, each with a reply as long, come to more than an item holds: 45 × 9,600 bytes."""


@pytest.fixture(autouse=True)
def no_loop_guard(monkeypatch):
    """Dozens of texts within a second, to fill an item, are a flood to the loop guard, which
    would leave them unanswered: these tests are about what is saved, not what is answered."""
    monkeypatch.setenv("LOOP_GUARD", "off")


@pytest.fixture
def deployed_table(aws_account, monkeypatch):
    """The conversation table (moto), named in the environment: the item it holds, once the
    test has run."""
    dynamodb = boto3.client("dynamodb")
    create_table(dynamodb, CONVERSATION_TABLE)
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    return lambda: dynamodb.get_item(TableName=CONVERSATION_TABLE, Key={"id": {"S": KEY}})["Item"]


@pytest.fixture
def local_file(tmp_path):
    """The local file of conversations (`make run`, `make chat`): the item DynamoDB would hold
    for what the file holds, once the test has run."""

    def item() -> dict:
        entry = json.loads((tmp_path / "conversations.json").read_text())[KEY]
        written = Stored(entry["state"], entry["history"], entry["version"] - 1, entry["taken"])
        return dynamodb_item(KEY, written, entry["expires_at"])

    return item


@pytest.fixture(params=[pytest.param("deployed_table", marks=pytest.mark.slow), "local_file"])
def saved_item(request):
    """Each store, the deployed one and the local one."""
    return request.getfixturevalue(request.param)


def text(body: str) -> dict:
    """A new message from the sender, as Twilio delivers it."""
    fields = message_fields(body, sid=new_message_sid())
    return signed(rest_request(fields=fields), REST_URL, fields)


def answers(invoke, turns: int, body: str = LONGEST_TEXT) -> list[str]:
    """The TwiML answers to that many messages of the sender's, one after the other."""
    return [invoke(text(body))["body"] for _ in range(turns)]


@pytest.fixture
def chatting(monkeypatch, answer_with):
    """Reply code that counts the messages in `state` and answers each with a text as long as
    Twilio takes, remembering the last 200 messages in and out: history alone outgrows an item."""
    monkeypatch.setenv("CONVERSATION_HISTORY", "200")
    router = Router()

    @router.fallback
    def chat(message, conversation):
        conversation.state["turns"] = conversation.state.get("turns", 0) + 1
        return f"turn {conversation.state['turns']}: " + LONGEST_TEXT[:1500]

    answer_with(router)


@pytest.fixture
def keeping_a_log(monkeypatch, answer_with):
    """Reply code that keeps a chat log in `state`, every message and its reply (a language
    model's memory), and answers with the log's length: state alone outgrows an item."""
    monkeypatch.setenv("CONVERSATION_HISTORY", "0")
    router = Router()

    @router.fallback
    def remember(message, conversation):
        log = conversation.state.setdefault("log", [])
        log.append({"in": message.body, "out": LONGEST_TEXT})
        return f"turn {len(log)}"

    answer_with(router)


def history(item: dict) -> list[dict]:
    return json.loads(item["history"]["S"])


# History outgrowing an item


def test_a_conversation_whose_history_outgrows_an_item_is_still_saved(saved_item, chatting, invoke):
    replies = answers(invoke, TURNS_TO_FILL_AN_ITEM)

    assert f"turn {TURNS_TO_FILL_AN_ITEM}: " in replies[-1]
    assert json.loads(saved_item()["state"]["S"]) == {"turns": TURNS_TO_FILL_AN_ITEM}


def test_a_saved_conversation_is_never_larger_than_an_item(saved_item, chatting, invoke):
    answers(invoke, TURNS_TO_FILL_AN_ITEM)

    assert item_bytes(saved_item()) <= MAX_ITEM_BYTES


def test_history_outgrowing_an_item_loses_its_oldest_messages_first(saved_item, chatting, invoke):
    answers(invoke, TURNS_TO_FILL_AN_ITEM)

    replies = [turn for turn in history(saved_item()) if turn["direction"] == "out"]
    kept = [turn["text"].partition(":")[0] for turn in replies]
    first = TURNS_TO_FILL_AN_ITEM - len(kept) + 1
    assert kept == [f"turn {number}" for number in range(first, TURNS_TO_FILL_AN_ITEM + 1)]
    assert len(kept) < TURNS_TO_FILL_AN_ITEM  # trimmed by bytes, long before 200 messages


# State outgrowing an item


def test_a_state_too_large_to_fit_alone_is_logged_as_too_large_with_its_size(
    saved_item, keeping_a_log, invoke, logs
):
    answers(invoke, TURNS_TO_FILL_AN_ITEM)

    too_large = [r for r in logs.records if r["message"].startswith("conversation too large")]
    assert too_large
    assert all(record["bytes"] > MAX_ITEM_BYTES for record in too_large)
    assert {record["limit"] for record in too_large} == {MAX_ITEM_BYTES}


def test_a_state_too_large_to_fit_alone_is_counted(saved_item, keeping_a_log, invoke, published):
    answers(invoke, TURNS_TO_FILL_AN_ITEM)

    assert "ConversationTooLarge" in [metric["name"] for metric in published()]


def test_a_state_too_large_to_fit_alone_is_no_outage_of_the_store(
    saved_item, keeping_a_log, invoke, logs, published
):
    answers(invoke, TURNS_TO_FILL_AN_ITEM)

    assert "conversation store unavailable" not in logs.messages()
    assert "ConversationStoreFailures" not in [metric["name"] for metric in published()]


def test_a_state_too_large_to_fit_alone_leaves_the_last_that_fit(saved_item, keeping_a_log, invoke):
    replies = answers(invoke, TURNS_TO_FILL_AN_ITEM)

    saved = len(json.loads(saved_item()["state"]["S"])["log"])
    assert saved < TURNS_TO_FILL_AN_ITEM
    assert [f">turn {saved + 1}</Message>" in reply for reply in replies[saved:]] == [True] * (
        TURNS_TO_FILL_AN_ITEM - saved
    )


@pytest.mark.slow
def test_the_local_store_takes_what_dynamodb_takes_and_no_more(
    keeping_a_log, invoke, deployed_table, monkeypatch
):
    deployed = answers(invoke, TURNS_TO_FILL_AN_ITEM)
    monkeypatch.delenv("CONVERSATION_TABLE")  # the local file, as `make run` keeps them

    local = answers(invoke, TURNS_TO_FILL_AN_ITEM)

    assert local == deployed
