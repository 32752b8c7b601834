"""Questions with a deadline (`Conversation.expect`): an answer in time voids the deadline, no
answer runs the timer handler, and exactly one of the two happens, whichever comes first."""

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from devtools.phone import Phone
from devtools.twilio_message import SENDER, TWILIO_NUMBER
from sms_webhook import Conversation, IncomingMessage, Router, Text, Timer, send_text
from sms_webhook.conversation import Expectation, Turn, conversation_key
from sms_webhook.conversation_store import (
    Answered,
    Conversations,
    FileStore,
    Stored,
    StoreFailedError,
    Visit,
)

ASKED = "Is it raining where you are?"
NUDGE = "Still there?"


class Asking:
    """A router that asks on ASK and waits an hour for the answer, nudging without one; the
    expectations each answer found pending, in order; gates a test can hold handlers at."""

    def __init__(self) -> None:
        self.router = Router()
        self.seen: list[Expectation | None] = []
        self.hold_answer = threading.Event()
        self.hold_nudge = threading.Event()
        self.answering = threading.Event()
        self.nudging = threading.Event()
        self.hold_answer.set()
        self.hold_nudge.set()
        self.router.keyword("ASK")(self.ask)
        self.router.fallback(self.answer)
        self.router.timer(name="nudge")(self.nudge)

    def ask(self, message: IncomingMessage, conversation: Conversation) -> str:
        conversation.expect(within=timedelta(hours=1), otherwise="nudge")
        return ASKED

    def answer(self, message: IncomingMessage, conversation: Conversation) -> str:
        self.seen.append(conversation.expecting)
        self.answering.set()
        self.hold_answer.wait(30)
        return "Noted."

    def nudge(self, timer: Timer, conversation: Conversation) -> str:
        self.nudging.set()
        self.hold_nudge.wait(30)
        return NUDGE


@pytest.fixture
def asking() -> Asking:
    return Asking()


@pytest.fixture
def phone(asking) -> Phone:
    return Phone(router=asking.router)


def advance(phone: Phone, **elapsed: float) -> list[str]:
    """Let time pass on the phone's clock: the bodies of the texts the timers due sent."""
    return [text.body for text in phone.advance(**elapsed)]


def sent_texts(phone: Phone) -> list[str]:
    """Every text in the phone's outbox, from whichever thread."""
    lines = phone.outbox_file.read_text().splitlines() if phone.outbox_file.exists() else []
    return [json.loads(line)["body"] for line in lines]


def test_without_an_answer_the_timer_handler_runs_when_the_deadline_comes(phone):
    phone.send("ASK")

    assert advance(phone, minutes=59) == []
    assert advance(phone, minutes=1) == [NUDGE]


def test_an_answer_in_time_voids_the_deadline(phone):
    phone.send("ASK")
    phone.send("yes")

    assert advance(phone, hours=2) == []


def test_the_answer_in_time_sees_the_question_it_answers(phone, asking):
    phone.send("ASK")
    phone.send("yes")

    [pending] = asking.seen
    assert pending is not None
    assert pending.otherwise == "nudge"


def test_an_answer_after_the_deadline_went_off_finds_no_question_waiting(phone, asking):
    phone.send("ASK")
    advance(phone, hours=1)

    assert phone.send("yes, sorry") == ["Noted."]
    assert asking.seen == [None]


def test_a_conversation_that_ended_gets_no_deadline(asking: Asking) -> None:
    @asking.router.keyword("BYE")
    def bye(message: IncomingMessage, conversation: Conversation) -> str:
        conversation.end()
        return "Bye."

    phone = Phone(router=asking.router)
    phone.send("ASK")
    phone.send("BYE")

    assert advance(phone, hours=2) == []


def test_asking_again_replaces_the_first_deadline(phone):
    phone.send("ASK")
    advance(phone, minutes=30)
    phone.send("ASK")

    assert advance(phone, minutes=31) == []
    assert advance(phone, minutes=30) == [NUDGE]


def test_a_deadline_that_names_no_timer_handler_fails_the_message_at_once(asking: Asking) -> None:
    @asking.router.keyword("TYPO")
    def typo(message: IncomingMessage, conversation: Conversation) -> str:
        conversation.expect(within=timedelta(hours=1), otherwise="nudg")
        return ASKED

    with pytest.raises(AssertionError, match="500"):
        Phone(router=asking.router).send("TYPO")


def test_an_answer_while_the_deadline_runs_wins_and_the_deadline_sends_nothing(
    phone, asking, published
):
    phone.send("ASK")
    phone.local_run.clock.advance(hours=1)
    asking.hold_nudge.clear()
    deadline = threading.Thread(target=advance, args=(phone,))
    deadline.start()
    assert asking.nudging.wait(30)

    phone.send("yes")  # written while the deadline's handler still runs
    asking.hold_nudge.set()
    deadline.join(30)

    assert NUDGE not in sent_texts(phone)
    assert asking.seen[0] is not None
    assert "DeadlinesVoid" in [metric["name"] for metric in published()]  # on its second run


def test_a_deadline_that_goes_off_while_the_answer_runs_wins_and_the_answer_runs_again(
    phone, asking
):
    phone.send("ASK")
    phone.local_run.clock.advance(hours=1)
    asking.hold_answer.clear()
    answer = threading.Thread(target=phone.send, args=("yes",))
    answer.start()
    assert asking.answering.wait(30)

    assert advance(phone) == [NUDGE]  # written while the answer's handler still runs
    asking.hold_answer.set()
    answer.join(30)

    assert [expectation is None for expectation in asking.seen] == [False, True]


def test_an_answer_in_time_taken_by_a_handler_that_runs_later_voids_the_deadline_and_gets_its_reply(
    asking: Asking,
) -> None:
    @asking.router.keyword("LATER", later=True)
    def slowly(message: IncomingMessage, conversation: Conversation) -> str:
        return f"{len(conversation.history)} message(s) so far"

    phone = Phone(router=asking.router)
    phone.send("ASK")

    assert phone.send("LATER") == ["3 message(s) so far"]  # ASK, its question, LATER: once each
    assert advance(phone, hours=2) == []


def test_an_answer_in_time_withdraws_the_deadline(phone: Phone) -> None:
    phone.send("ASK")
    phone.send("yes")

    assert phone.timers == []


def test_asking_again_withdraws_the_first_deadline(phone: Phone) -> None:
    phone.send("ASK")
    phone.send("ASK")

    assert len(phone.timers) == 1


def test_a_reminders_visit_leaves_a_question_waiting(asking: Asking) -> None:
    @asking.router.keyword("REMIND")
    def remind(message: IncomingMessage) -> str:
        send_text(message.from_number, key="r1", at=timedelta(minutes=30), handler="reminder")
        return "Noted."

    @asking.router.timer
    def reminder(timer: Timer, conversation: Conversation) -> str:
        return "A reminder."

    phone = Phone(router=asking.router)
    phone.send("REMIND")
    phone.send("ASK")

    assert advance(phone, hours=1) == ["A reminder.", NUDGE]


def test_a_deadline_whose_change_cannot_be_saved_sends_nothing_and_is_tried_again(
    tmp_path: Path,
) -> None:
    store = FailingWrites(tmp_path / "conversations.json")
    key = conversation_key(TWILIO_NUMBER, SENDER)
    store.write(key, Stored("{}", "[]", 0, expecting='["q1", "nudge", 0]'), in_a_day())
    store.failing = True
    visit = Visit(key, "timer deadline q1", SENDER, TWILIO_NUMBER, waits_for="q1")

    with pytest.raises(StoreFailedError):
        Conversations(store, 3600, 10).visit(visit, lambda talk: Answered((Text(NUDGE),), True))
    assert store.read(key).expecting == '["q1", "nudge", 0]'


def test_a_message_retried_after_its_conversations_timer_came_changes_nothing(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path / "conversations.json")
    key = conversation_key(TWILIO_NUMBER, SENDER)
    history = '[{"direction":"in","text":"hi","media":[],"at":1.0}]'
    lapsed = int(time.time()) - 60
    read = Stored("{}", history, 0, taken='[["SM1",[["Hello",[]]]]]', keep_until=lapsed)
    store.write(key, read, in_a_day())
    visit = Visit(key, "SM1", SENDER, TWILIO_NUMBER, incoming=Turn("in", "hi"))

    texts = Conversations(store, 3600, 10).visit(visit, lambda talk: pytest.fail("run again"))

    assert texts == (Text("Hello"),)
    assert store.read(key) == read._replace(version=1)


class FailingWrites(FileStore):
    """A file store whose writes fail once `failing` is set: an outage, no conflict."""

    failing = False

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        if self.failing:
            raise OSError("the store is down")
        super().write(key, stored, expires_at)


def in_a_day() -> int:
    return int(time.time()) + 86400
