"""Where conversations are kept and one message's turn in its conversation: state and history
kept between messages, in DynamoDB (moto) when deployed and in a file locally, read only for
handlers that ask, written at most once per message with a version so that two messages at once
never lose a change silently."""

import fcntl
import itertools
import json
import multiprocessing
import os
import stat
import threading
import time

import boto3
import pytest
from moto import mock_aws
from samcli.yamlhelper import yaml_parse

from sms_webhook import aws, conversation_store, deadlines
from sms_webhook.conversation import Conversation, Turn, conversation_key
from sms_webhook.conversation_store import (
    MAX_ITEM_BYTES,
    NOTHING,
    TAKEN_MESSAGES,
    Answered,
    ConflictError,
    Conversations,
    DynamoDBStore,
    FileStore,
    Store,
    Stored,
    TooLargeError,
    Visit,
    dynamodb_item,
    fitted,
    item_bytes,
)
from sms_webhook.local_files import LOCK_RETRY, LOCK_WAIT, LockTimeoutError
from sms_webhook.message import IncomingMessage, Media
from sms_webhook.router import Router
from sms_webhook.twiml import Text
from tests.support.builds import PROJECT
from tests.support.twilio_requests import REST_URL, SMS, rest_request, signed, with_fields

SMS_2 = with_fields(
    SMS, MessageSid="SM" + "2" * 32, SmsSid="SM" + "2" * 32, SmsMessageSid="SM" + "2" * 32
)

TABLE = "ConversationTable"
DAY = 24 * 60 * 60
KEY = "+15005550006 +14155551234"


SIDS = itertools.count(1)


def message(body: str = "hi", sender: str = "+14155551234", **extra: object) -> IncomingMessage:
    """A new message, with a MessageSid of its own."""
    return IncomingMessage(
        sid=f"SM{next(SIDS):032x}",
        account_sid="AC" + "0" * 32,
        from_number=sender,
        to_number="+15005550006",
        body=body,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def table():
    """The conversation table as template.yaml creates it."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


@pytest.fixture(params=["dynamodb", "file"])
def store(request, tmp_path):
    """Each store, the deployed one and the local one, behaves the same."""
    if request.param == "file":
        yield FileStore(tmp_path / "conversations.json")
    else:
        yield request.getfixturevalue("table") and DynamoDBStore(TABLE)


def conversations(store, history_length: int = 10) -> Conversations:
    return Conversations(store, ttl_seconds=DAY, history_length=history_length)


def replying(*texts: str):
    """A handler that takes the conversation and answers with these texts."""
    return lambda conversation: Answered(tuple(map(Text, texts)), kept=True)


def remember(key: str, value: object):
    def answer(conversation: Conversation) -> Answered:
        conversation.state[key] = value
        return Answered((Text("noted"),), kept=True)

    return answer


def seen(conversations: Conversations, body: str = "what do you know?") -> Conversation:
    """The conversation the next message's handler would get, left as it was."""
    got: list[Conversation] = []

    def look(conversation: Conversation) -> Answered:
        got.append(conversation)
        return Answered((), kept=False)

    conversations.turn(message(body), look)
    return got[-1]


def stored(state: str = "{}", history: str = "[]", version: int = 0) -> Stored:
    return Stored(state, history, version)


def in_a_day() -> int:
    return int(time.time()) + DAY


# The stores


def test_what_is_written_is_read_back_with_the_next_version(store):
    store.write("key", stored('{"step":2}', '[{"direction":"in"}]'), in_a_day())

    assert store.read("key") == stored('{"step":2}', '[{"direction":"in"}]', version=1)


def test_nothing_stored_reads_as_version_0(store):
    assert store.read("key") == NOTHING


def test_a_write_from_an_older_version_is_a_conflict(store):
    store.write("key", stored('{"n":1}'), in_a_day())

    with pytest.raises(ConflictError):
        store.write("key", stored('{"n":2}'), in_a_day())


def test_a_write_of_a_version_that_was_forgotten_meanwhile_is_a_conflict(store):
    store.write("key", stored('{"n":1}'), in_a_day())
    store.forget("key", stored('{"n":1}', version=1))

    with pytest.raises(ConflictError):
        store.write("key", stored('{"n":2}', version=1), in_a_day())


def test_forgetting_a_version_written_over_meanwhile_is_a_conflict(store):
    store.write("key", stored('{"n":1}'), in_a_day())
    store.write("key", stored('{"n":2}', version=1), in_a_day())

    with pytest.raises(ConflictError):
        store.forget("key", stored('{"n":1}', version=1))
    assert store.read("key").state == '{"n":2}'


def test_a_forgotten_conversation_is_gone(store):
    store.write("key", stored('{"n":1}'), in_a_day())

    store.forget("key", stored('{"n":1}', version=1))

    assert store.read("key") == NOTHING


def test_an_expired_conversation_reads_as_nothing_with_the_version_still_stored(store):
    store.write("key", stored('{"n":1}'), int(time.time()) - 1)

    assert store.read("key") == stored(version=1)


def in_14_seconds() -> float:
    return time.time() + 14


def test_a_message_taking_the_turn_gets_the_conversation_as_it_is(store):
    store.write("key", stored('{"n":1}'), in_a_day())

    held = store.take_turn("key", "lease-a", in_14_seconds())

    assert held == Stored('{"n":1}', "[]", 1, lease="lease-a")


def test_one_message_at_a_time_holds_the_turn(store):
    store.take_turn("key", "lease-a", in_14_seconds())

    assert store.take_turn("key", "lease-b", in_14_seconds()) is None


def test_a_write_while_another_message_holds_the_turn_is_a_conflict(store):
    store.write("key", stored('{"n":1}'), in_a_day())
    store.take_turn("key", "lease-a", in_14_seconds())

    with pytest.raises(ConflictError):
        store.write("key", stored('{"n":2}', version=1), in_a_day())


def test_a_write_holding_the_turn_frees_it(store):
    held = store.take_turn("key", "lease-a", in_14_seconds())

    store.write("key", held._replace(state='{"n":1}'), in_a_day())

    assert store.read("key") == stored('{"n":1}', version=1)
    assert store.take_turn("key", "lease-b", in_14_seconds()) is not None


def test_a_turn_held_past_its_time_may_be_taken_and_its_holder_can_no_longer_write(store):
    late = store.take_turn("key", "lease-a", time.time() - 1)
    store.take_turn("key", "lease-b", in_14_seconds())

    with pytest.raises(ConflictError):
        store.write("key", late._replace(state='{"n":1}'), in_a_day())


def test_a_turn_taken_on_no_conversation_and_given_back_leaves_nothing(store):
    held = store.take_turn("key", "lease-a", in_14_seconds())

    store.forget("key", held)

    assert store.read("key") == NOTHING
    assert store.take_turn("key", "lease-b", in_14_seconds()) == NOTHING._replace(lease="lease-b")


def test_the_table_item_carries_the_ttl_attribute_the_template_names(table):
    DynamoDBStore(TABLE).write("key", NOTHING, 2_000_000_000)

    [item] = table.scan(TableName=TABLE)["Items"]
    assert item["expires_at"] == {"N": "2000000000"}


def policy_statements(node: object, sid: str):
    """The IAM policy statements of that Sid in a part of the template, wherever they stand."""
    if isinstance(node, dict):
        if node.get("Sid") == sid:
            yield node
        for value in node.values():
            yield from policy_statements(value, sid)
    elif isinstance(node, list):
        for value in node:
            yield from policy_statements(value, sid)


def test_the_table_is_called_only_as_the_functions_policies_allow(table):
    template = yaml_parse((PROJECT / "template.yaml").read_text())
    allowed = [set(s["Action"]) for s in policy_statements(template, "KeepConversations")]
    calls: set[str] = set()
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.add(f"dynamodb:{model.name}")
    )
    talks = conversations(DynamoDBStore(TABLE))

    def overtaken(conversation: Conversation) -> Answered:  # its second run takes the turn
        if "n" not in conversation.state:
            talks.turn(message("meanwhile"), remember("n", 1))
        return remember("after", True)(conversation)

    talks.turn(message(), overtaken)
    talks.turn(message("STOP"), lambda talk: talk.end() or Answered((), kept=True))

    assert calls == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert len(allowed) == 2  # the webhook's and the worker's
    assert all(calls <= actions for actions in allowed)


def test_the_local_store_survives_a_restart(tmp_path):
    FileStore(tmp_path / "c.json").write("key", stored('{"n":1}'), in_a_day())

    assert FileStore(tmp_path / "c.json").read("key").state == '{"n":1}'


def test_the_local_store_is_readable_by_its_owner_only(tmp_path):
    FileStore(tmp_path / "c.json").write("key", stored('{"n":1}'), in_a_day())

    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == {"c.json": 0o600, "c.json.lock": 0o600}


def test_an_unreadable_local_file_is_named_in_the_log(tmp_path, logs):
    (tmp_path / "c.json").write_text("{half a file")

    with pytest.raises(json.JSONDecodeError):
        FileStore(tmp_path / "c.json").read("key")
    assert "conversation file unreadable: delete it to start afresh" in logs.messages()


@pytest.fixture
def held_lock(tmp_path):
    """The local file's lock, taken through a descriptor of its own (as another process would)."""
    descriptor = os.open(tmp_path / "c.json.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    yield descriptor
    os.close(descriptor)


def test_a_lock_held_by_another_is_given_up_after_lock_wait(tmp_path, clock, held_lock):
    with pytest.raises(LockTimeoutError):
        FileStore(tmp_path / "c.json").read("key")

    assert LOCK_WAIT <= sum(clock.sleeps) < LOCK_WAIT + 2 * LOCK_RETRY


def test_a_lock_released_while_waited_for_is_taken(tmp_path, clock, held_lock, monkeypatch):
    def sleep_then_release(seconds):
        clock.sleep(seconds)
        fcntl.flock(held_lock, fcntl.LOCK_UN)

    monkeypatch.setattr(deadlines, "sleep", sleep_then_release)

    assert FileStore(tmp_path / "c.json").read("key") == NOTHING
    assert len(clock.sleeps) == 1


def test_a_save_that_fails_leaves_no_partial_file(tmp_path, monkeypatch):
    def disk_full(entries, written, **options):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(conversation_store.json, "dump", disk_full)

    with pytest.raises(OSError, match="No space left"):
        FileStore(tmp_path / "c.json").write("key", stored(), in_a_day())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["c.json.lock"]


def count_to(path: str, sender: str, times: int) -> None:
    """One process of several sharing the file, answering its own sender."""
    talks = conversations(FileStore(path))
    for _ in range(times):
        talks.turn(message(sender=sender), add_one)


def add_one(conversation: Conversation) -> Answered:
    conversation.state["n"] = conversation.state.get("n", 0) + 1
    return Answered((Text("ok"),), kept=True)


def test_processes_sharing_the_local_file_lose_no_change(tmp_path):
    path = str(tmp_path / "shared.json")
    senders = ["+14155550001", "+14155550002", "+14155550003"]
    fork = multiprocessing.get_context("fork")
    processes = [fork.Process(target=count_to, args=(path, sender, 30)) for sender in senders]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)

    assert [process.exitcode for process in processes] == [0, 0, 0]
    store = FileStore(path)
    counts = [json.loads(store.read(f"+15005550006 {sender}").state) for sender in senders]
    assert counts == [{"n": 30}] * 3


# A turn of the conversation


def test_state_changed_by_a_handler_is_there_for_the_next_message(store):
    talks = conversations(store)
    talks.turn(message(), remember("name", "Ada"))

    assert seen(talks).state == {"name": "Ada"}


def test_history_holds_the_messages_in_and_out_oldest_first(store):
    talks = conversations(store)
    picture = Media("https://api.twilio.com/m/ME1", "image/png")
    talks.turn(message("look", media=(picture,)), replying("nice", "really"))

    history = seen(talks, "and now?").history

    assert [(turn.direction, turn.text, turn.media) for turn in history] == [
        ("in", "look", ("https://api.twilio.com/m/ME1",)),
        ("out", "nice", ()),
        ("out", "really", ()),
        ("in", "and now?", ()),
    ]


def test_history_holds_the_media_of_a_reply(store):
    talks = conversations(store)
    ticket = Text("your ticket", media=("https://example.com/tickets/42.png",))
    talks.turn(message("ticket?"), lambda conversation: Answered((ticket,), kept=True))

    [_, reply, _] = seen(talks, "thanks").history

    assert (reply.text, reply.media) == ticket


def test_history_keeps_the_last_messages_only(store):
    talks = conversations(store, history_length=3)
    for number in range(5):
        talks.turn(message(f"text {number}"), replying("ok"))

    assert [turn.text for turn in seen(talks, "last").history] == ["text 4", "ok", "last"]


def test_each_sender_has_a_conversation_of_their_own(store):
    talks = conversations(store)
    talks.turn(message(sender="+14155550002"), remember("who", "first"))

    assert seen(talks).state == {}


def test_an_ended_conversation_is_forgotten(store):
    talks = conversations(store)
    talks.turn(message(), remember("step", 3))

    talks.turn(
        message("STOP SURVEY"),
        lambda conversation: conversation.end() or replying("bye")(conversation),
    )

    conversation = seen(talks, "again")
    assert (conversation.state, [turn.text for turn in conversation.history]) == ({}, ["again"])


def test_a_message_answered_while_another_wrote_first_runs_again_on_what_it_left(store):
    talks = conversations(store)
    runs: list[dict] = []

    def count_up(conversation: Conversation) -> Answered:
        runs.append(dict(conversation.state))
        if len(runs) == 1:  # another message of the same sender is answered meanwhile
            talks.turn(message("meanwhile"), remember("n", 10))
        conversation.state["n"] = conversation.state.get("n", 0) + 1
        return Answered((Text("counted"),), kept=True)

    talks.turn(message(), count_up)

    assert runs == [{}, {"n": 10}]
    assert seen(talks).state == {"n": 11}


def test_two_threads_answering_one_sender_at_once_lose_no_change(table, atomic_moto):
    talks = conversations(DynamoDBStore(TABLE))
    both_read = threading.Barrier(2)
    this_thread = threading.local()

    def increment(conversation: Conversation) -> Answered:
        conversation.state["n"] = conversation.state.get("n", 0) + 1
        if not getattr(this_thread, "answered", False):  # each thread's first run: both have
            this_thread.answered = True  # read version 0 before either writes
            both_read.wait(timeout=60)
        return Answered((Text("ok"),), kept=True)

    threads = [threading.Thread(target=talks.turn, args=(message(), increment)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen(talks).state == {"n": 2}


@pytest.fixture
def webhook_request(clock):
    """A webhook request arrives now, with the function's 30 s: the clock its turn measures."""
    deadlines.start_request(remaining_millis=deadlines.WEBHOOK_TIMEOUT * 1000)
    return clock


@pytest.fixture
def worker_job(clock):
    """A worker's job starts now, with 15 minutes: the clock its turn measures."""
    deadlines.start_job(remaining_millis=15 * 60 * 1000)
    return clock


def overtaken_after(clock, seconds: float, talks: Conversations):
    """A handler that takes `seconds`, during whose first run another message of the sender
    saves its change; it counts its runs."""
    runs: list[dict] = []

    def answer(conversation: Conversation) -> Answered:
        runs.append(dict(conversation.state))
        if len(runs) == 1:
            talks.turn(message("meanwhile"), remember("winner", "the other message"))
        clock.advance(seconds)
        conversation.state["winner"] = "this message"
        return Answered((Text("sent anyway"),), kept=True)

    answer.runs = runs  # type: ignore[attr-defined]
    return answer


def test_a_change_whose_run_again_could_not_be_answered_in_time_is_lost_logged_and_counted(
    store, webhook_request, logs, published
):
    talks = conversations(store)
    slow = overtaken_after(webhook_request, 7, talks)  # 7 s, 7 more and a write: past 15 s

    assert talks.turn(message(), slow) == (Text("sent anyway"),)
    assert len(slow.runs) == 1
    assert seen(talks).state == {"winner": "the other message"}
    assert "conversation changed by another message: this change is lost" in logs.messages()
    assert "ConversationConflicts" in [metric["name"] for metric in published()]


def test_a_change_whose_run_again_can_be_answered_in_time_is_kept(store, webhook_request):
    talks = conversations(store)
    slow = overtaken_after(webhook_request, 5, talks)  # 5 s, 5 more, and a write: within 15 s

    talks.turn(message(), slow)

    assert seen(talks).state == {"winner": "this message"}


def test_a_handler_that_raises_while_holding_the_turn_gives_it_back(store):
    talks = conversations(store)
    runs: list[dict] = []

    def fails_on_its_turn(conversation: Conversation) -> Answered:
        runs.append(dict(conversation.state))
        if len(runs) == 1:  # overtaken: its next run holds the conversation's turn
            talks.turn(message("meanwhile"), remember("other", True))
            return Answered((Text("ok"),), kept=True)
        raise RuntimeError("the booking system is down")

    with pytest.raises(RuntimeError):
        talks.turn(message(), fails_on_its_turn)
    next_runs: list[dict] = []

    def next_message(conversation: Conversation) -> Answered:
        next_runs.append(dict(conversation.state))
        return remember("next", True)(conversation)

    talks.turn(message("next"), next_message)

    assert next_runs == [{"other": True}]  # written at once: nobody holds the turn
    assert seen(talks).state == {"other": True, "next": True}


class TurnRecordingStore(FileStore):
    """A local store that notes who took a conversation's turn."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.turns_taken: list[str] = []

    def take_turn(self, key, lease, until):
        self.turns_taken.append(lease)
        return super().take_turn(key, lease, until)


def test_a_later_handler_too_slow_to_hold_the_turn_runs_once_more_without_it(tmp_path, worker_job):
    store = TurnRecordingStore(tmp_path / "c.json")
    talks = conversations(store)
    runs: list[dict] = []

    def report(conversation: Conversation) -> Answered:
        runs.append(dict(conversation.state))
        if len(runs) == 1:  # a minute's work, while the sender texts again
            talks.turn(message("meanwhile"), remember("texted", True))
            worker_job.advance(60)
        conversation.state["reported"] = True
        return Answered((Text("your report"),), kept=True)

    talks.turn(message(), report)

    assert (runs, store.turns_taken) == ([{}, {"texted": True}], [])
    assert seen(talks).state == {"texted": True, "reported": True}


class FailingToTakeTurns(FileStore):
    """A local store that fails when a message asks for the conversation's turn."""

    def take_turn(self, key, lease, until):
        raise ConnectionError("the store is down")


def test_a_store_failing_while_a_message_waits_for_its_turn_is_no_conflict(
    tmp_path, logs, published
):
    talks = conversations(FailingToTakeTurns(tmp_path / "c.json"))

    def overtaken(conversation: Conversation) -> Answered:
        talks.turn(message("meanwhile"), remember("other", True))
        return Answered((Text("sent anyway"),), kept=True)

    assert talks.turn(message(), overtaken) == (Text("sent anyway"),)
    assert "conversation store unavailable" in logs.messages()
    counted = [metric["name"] for metric in published()]
    assert ("ConversationStoreFailures" in counted, "ConversationConflicts" in counted) == (
        True,
        False,
    )


class BrokenStore:
    def read(self, key):
        raise ConnectionError("the store is down")

    write = forget = read


class WriteFailingStore(FileStore):
    def write(self, key, stored, expires_at):
        raise ConnectionError("the store went down")


def test_when_the_store_cannot_be_read_the_handler_gets_an_empty_unsaved_conversation(
    logs, published
):
    conversation = seen(conversations(BrokenStore()))

    assert (conversation.available, conversation.state) == (False, {})
    assert "conversation store unavailable" in logs.messages()
    assert "ConversationStoreFailures" in [metric["name"] for metric in published()]


def test_when_the_store_cannot_be_read_the_reply_still_goes_out():
    assert conversations(BrokenStore()).turn(message(), replying("still")) == (Text("still"),)


def test_a_message_whose_handler_did_not_take_the_conversation_costs_no_write(store):
    talks = conversations(store)

    talks.turn(message("hello"), lambda conversation: Answered((Text("hi"),), kept=False))

    assert store.read(KEY) == NOTHING


def test_when_the_store_cannot_be_written_the_reply_still_goes_out_logged_and_counted(
    tmp_path, logs, published
):
    talks = conversations(WriteFailingStore(tmp_path / "c.json"))

    assert talks.turn(message(), remember("n", 1)) == (Text("noted"),)
    [failure] = [r for r in logs.records if r["message"] == "conversation store unavailable"]
    assert failure["operation"] == "write"
    assert "ConversationStoreFailures" in [metric["name"] for metric in published()]


def test_an_expired_conversation_not_yet_swept_is_started_afresh(store):
    store.write(KEY, stored('{"step":3}'), int(time.time()) - 1)
    talks = conversations(store)

    talks.turn(message(), remember("step", 1))

    assert seen(talks).state == {"step": 1}


def test_a_message_answered_while_another_ended_the_conversation_does_not_bring_it_back(store):
    talks = conversations(store)
    talks.turn(message("first"), remember("secret", "kept until the end"))
    runs: list[dict] = []

    def answer_while_ended(conversation: Conversation) -> Answered:
        runs.append(dict(conversation.state))
        if len(runs) == 1:  # another message of the same sender ends it meanwhile
            talks.turn(
                message("END"), lambda talk: talk.end() or Answered((Text("bye"),), kept=True)
            )
        conversation.state["after"] = True
        return Answered((Text("ok"),), kept=True)

    talks.turn(message("second"), answer_while_ended)

    assert runs == [{"secret": "kept until the end"}, {}]
    conversation = seen(talks)
    assert conversation.state == {"after": True}
    assert "first" not in [turn.text for turn in conversation.history]


def test_a_history_of_length_0_keeps_no_message(store):
    talks = conversations(store, history_length=0)
    talks.turn(message(), replying("ok"))

    assert seen(talks).history == []


@pytest.mark.parametrize("value", [{"a set"}, (1, 2), {1: "a number key"}, float("nan")], ids=repr)
def test_state_json_cannot_hold_as_it_is_is_not_saved_and_the_reply_goes_out(store, logs, value):
    talks = conversations(store)

    assert talks.turn(message(), remember("kept", value)) == (Text("noted"),)
    assert seen(talks).state == {}
    assert "conversation state not saved: JSON cannot hold it" in logs.messages()


def test_without_a_store_handlers_get_a_conversation_that_is_not_kept():
    talks = conversations(None)
    talks.turn(message(), remember("kept", False))

    assert (seen(talks).available, seen(talks).state) == (False, {})


# Each message taken once


def count(conversation: Conversation) -> Answered:
    """Counts, in the conversation's state, the messages it was run on."""
    conversation.state["n"] = conversation.state.get("n", 0) + 1
    return Answered((Text(f"count {conversation.state['n']}"),), kept=True)


def test_a_second_turn_for_a_message_taken_gives_its_first_reply(store):
    talks = conversations(store)
    counted = message("COUNT")
    talks.turn(counted, count)

    assert talks.turn(counted, count) == (Text("count 1"),)


def test_a_second_turn_for_a_message_taken_changes_nothing(store):
    talks = conversations(store)
    counted = message("COUNT")
    talks.turn(counted, count)
    before = store.read(KEY)

    talks.turn(counted, count)

    assert store.read(KEY) == before


def test_a_conversation_remembers_the_last_10_messages_it_took(store):
    talks = conversations(store)
    first = message("COUNT")
    talks.turn(first, count)
    for _ in range(TAKEN_MESSAGES - 1):
        talks.turn(message("COUNT"), count)
    assert talks.turn(first, count) == (Text("count 1"),)

    talks.turn(message("COUNT"), count)  # the 11th: the first is forgotten

    assert talks.turn(first, count) == (Text(f"count {TAKEN_MESSAGES + 2}"),)


def test_a_message_found_taken_once_its_turn_came_gives_the_turn_back_unchanged(store):
    talks = conversations(store)
    counted = message("COUNT")

    def delivered_again_meanwhile(conversation: Conversation) -> Answered:
        talks.turn(counted, count)  # the same message, answered first
        return count(conversation)

    assert talks.turn(counted, delivered_again_meanwhile) == (Text("count 1"),)
    assert seen(talks).state == {"n": 1}
    assert store.take_turn(KEY, "the next message", in_14_seconds()) is not None


def test_a_message_whose_turn_came_and_changed_nothing_gives_the_turn_back(store):
    talks = conversations(store)

    def look_while_another_writes(conversation: Conversation) -> Answered:
        talks.turn(message("meanwhile"), remember("other", True))
        return Answered((Text("only looked"),), kept=False)

    talks.turn(message(), look_while_another_writes)

    assert store.read(KEY).state == '{"other":true}'
    assert store.take_turn(KEY, "the next message", in_14_seconds()) is not None


# The size of a conversation


def test_an_items_size_counts_utf8_bytes_and_numbers_by_their_significant_digits():
    item = {"id": {"S": "é"}, "n": {"N": "12345"}, "z": {"N": "100"}}

    # "id" and "é": 2 + 2; "n" and 5 digits: 1 + 1 + 3; "z" and "1" (zeros trimmed): 1 + 1 + 1
    assert item_bytes(item) == 4 + 5 + 3


def a_turn(size: int, label: str) -> Turn:
    """A message in history of about `size` bytes."""
    return Turn("in", label + "x" * size, (), 1.0)


def reply_of(size: int) -> tuple[Text, ...]:
    return (Text("y" * size),)


def kept_in(fitted_conversation: Stored) -> tuple[list[str], list[bool]]:
    """Which history turns were kept (by their label), and which taken messages kept replies."""
    turns = [turn["text"][:2] for turn in json.loads(fitted_conversation.history)]
    replies = [reply is not None for _, reply in json.loads(fitted_conversation.taken)]
    return turns, replies


def fit(history: list[Turn], taken: list, state: str = "{}") -> Stored:
    return fitted(KEY, stored(state, version=3), history, taken, in_a_day())


def test_history_is_trimmed_oldest_first_to_fit():
    history = [a_turn(100_000, f"h{number}") for number in range(5)]

    assert kept_in(fit(history, [("SM1", ())])) == (["h2", "h3", "h4"], [True])


def test_replies_of_earlier_messages_go_before_history():
    history = [a_turn(100_000, "h0"), a_turn(100_000, "h1")]
    taken = [("SM1", reply_of(250_000)), ("SM2", reply_of(10))]

    assert kept_in(fit(history, taken)) == (["h0", "h1"], [False, True])


def test_this_messages_reply_goes_after_history():
    history = [a_turn(100_000, f"h{number}") for number in range(3)]
    taken = [("SM1", reply_of(150_000))]

    assert kept_in(fit(history, taken)) == (["h1", "h2"], [True])


def test_a_fitted_conversation_is_at_most_an_item():
    history = [a_turn(30_000, f"h{number}") for number in range(20)]
    taken = [(f"SM{number}", reply_of(20_000)) for number in range(TAKEN_MESSAGES)]
    conversation = fit(history, taken, state='{"a":"' + "z" * 100_000 + '"}')

    assert item_bytes(dynamodb_item(KEY, conversation, in_a_day())) <= MAX_ITEM_BYTES


def test_a_state_that_does_not_fit_alone_is_too_large_with_its_size():
    with pytest.raises(TooLargeError) as too_large:
        fit([], [("SM1", ())], state='{"a":"' + "z" * MAX_ITEM_BYTES + '"}')

    assert too_large.value.size > MAX_ITEM_BYTES


def test_a_message_whose_reply_did_not_fit_is_taken_and_answered_nothing_again(store):
    talks = conversations(store)
    counted = message("COUNT")

    def count_and_fill(conversation: Conversation) -> Answered:
        conversation.state["filler"] = "z" * 390_000
        return Answered((*count(conversation).texts, Text("y" * 20_000)), kept=True)

    talks.turn(counted, count_and_fill)

    assert talks.turn(counted, count_and_fill) == ()
    assert seen(talks).state["n"] == 1


# Through the webhook


def test_a_repeated_delivery_applies_its_change_once(idempotency_table, invoke, answer_with):
    router = Router()

    @router.fallback
    def count(message, conversation):
        conversation.state["n"] = conversation.state.get("n", 0) + 1
        return f"message {conversation.state['n']}"

    answer_with(router)
    delivery = signed(rest_request(), REST_URL)

    answers = [invoke(delivery)["body"] for _ in range(3)]

    assert len(set(answers)) == 1
    assert ">message 1</Message>" in answers[0]
    assert (
        ">message 2</Message>"
        in invoke(signed(rest_request(fields=SMS_2), REST_URL, SMS_2))["body"]
    )


def test_only_a_request_whose_signature_holds_touches_the_store(invoke, store_calls, answer_with):
    router = Router()
    router.fallback(lambda message, conversation: conversation.state.update(seen=True) or "ok")
    answer_with(router)

    assert invoke(signed(rest_request(), REST_URL, token="forged"))["statusCode"] == 403
    assert store_calls == []
    assert invoke(signed(rest_request(), REST_URL))["statusCode"] == 200
    assert store_calls == ["read", "write"]


def answer_and_deadline_at_once(
    store: Store, first: str
) -> tuple[dict[str, tuple[Text, ...]], dict[str, list[bool]]]:
    """An answer and its question's deadline, both having read the question waiting before
    either writes, `first` writing first: what each sent, and whether each of their runs saw the
    question."""
    talks = conversations(store)
    answer = message("yes")
    key = conversation_key(answer.to_number, answer.from_number)
    store.write(key, NOTHING._replace(expecting='["q1","nudge",0]'), int(time.time()) + DAY)
    both_read = threading.Barrier(2)
    first_wrote = threading.Event()
    runs: dict[str, list[bool]] = {"deadline": [], "answer": []}
    sent: dict[str, tuple[Text, ...]] = {}

    def run(side: str, talk: Conversation) -> Answered:
        runs[side].append(talk.expecting is not None)
        if len(runs[side]) == 1:  # each side's first run: both have read the question
            both_read.wait(timeout=60)
            if side != first:
                first_wrote.wait(timeout=60)
        return Answered((Text(side),), kept=True)

    def deadline_goes_off() -> None:
        deadline = Visit(key, "timer q1", answer.from_number, answer.to_number, waits_for="q1")
        sent["deadline"] = talks.visit(deadline, lambda talk: run("deadline", talk))
        if first == "deadline":
            first_wrote.set()

    def answer_arrives() -> None:
        sent["answer"] = talks.turn(answer, lambda talk: run("answer", talk))
        if first == "answer":
            first_wrote.set()

    threads = [threading.Thread(target=deadline_goes_off), threading.Thread(target=answer_arrives)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sent, runs


def test_a_deadline_that_writes_before_its_answer_is_sent_and_the_answer_finds_no_question(
    store, atomic_moto
):
    sent, runs = answer_and_deadline_at_once(store, first="deadline")

    assert sent["deadline"] == (Text("deadline"),)
    assert runs["answer"] == [True, False]  # run again, on the conversation the deadline left


def test_an_answer_that_writes_before_its_deadline_voids_it_and_nothing_is_sent(store, atomic_moto):
    sent, runs = answer_and_deadline_at_once(store, first="answer")

    assert runs["answer"] == [True]
    assert (runs["deadline"], sent["deadline"]) == ([True], ())  # run again: void
