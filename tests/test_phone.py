"""`devtools.phone.Phone`, the phone users test their replies with, on this machine alone."""

import gc
import json
import os
import socket
import threading

import pytest

from devtools.phone import Phone, SentText
from sms_webhook import later, local_run
from sms_webhook.router import Router
from sms_webhook.twiml import Text
from tests.conftest import IDEMPOTENCY_TABLE, SHARED_KEYS_PATH, STAFF, TOKEN_PARAMETER
from tests.support import timer_replies

SHELL = {
    "TWILIO_AUTH_TOKEN_PARAMETER": TOKEN_PARAMETER,
    "TWILIO_SHARED_KEYS_PATH": SHARED_KEYS_PATH,
    "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
    "CONVERSATION_TABLE": "ConversationTable",
    "LATER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/LaterRepliesQueue",
}
"""What a shell that once deployed the stack may export: names of its SSM parameters and tables."""


@pytest.fixture
def aws(monkeypatch):
    """Where every AWS call of the test goes (`AWS_ENDPOINT_URL`): a socket listening on loopback
    that counts the calls that reach it; and a shell that names the deployment's AWS resources."""
    for name, value in SHELL.items():
        monkeypatch.setenv(name, value)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listening.getsockname()[1]}")
        listening.setblocking(False)
        yield listening


def calls(listening: socket.socket) -> int:
    """The connections made to the socket so far."""
    made = 0
    while True:
        try:
            connection, _ = listening.accept()
        except BlockingIOError:
            return made
        connection.close()
        made += 1


def test_a_send_reaches_no_aws_whatever_the_shell_names(aws):
    phone = Phone()

    phone.send("SURVEY")
    phone.send("a friend")

    assert calls(aws) == 0


def test_the_conversation_carries_on_in_the_phones_file_not_the_shells_table(aws):
    phone = Phone()

    phone.send("SURVEY")

    assert phone.send("a friend") == ["2/2: from 1 to 5, how likely are you to recommend us?"]


def test_the_shells_settings_are_as_they_were_after_a_send(aws):
    Phone().send("hello")

    assert {name: os.environ.get(name) for name in SHELL} == SHELL


def test_a_phones_own_folder_is_removed_with_the_phone():
    phone = Phone()
    phone.send("SURVEY")
    folder = phone.conversations.parent
    assert phone.conversations.is_file()

    del phone
    gc.collect()

    assert not folder.exists()


def test_a_conversations_file_given_to_the_phone_is_left_where_it_is(tmp_path):
    phone = Phone(conversations=tmp_path / "conversations.json")
    phone.send("SURVEY")

    del phone
    gc.collect()

    assert (tmp_path / "conversations.json").is_file()


# Later replies and texts sent first


def test_segments_say_what_each_message_of_the_last_answer_is_billed_as(answer_with):
    answer_with(
        lambda message: [
            "こんにちは" * 20,
            "See you",
            Text("Ticket", media=["https://example.com/t.png"]),
        ]
    )
    phone = Phone()

    phone.send("hi")

    assert phone.segments == [(2, "UCS-2"), (1, "GSM-7"), (0, None)]


def test_on_whatsapp_no_message_is_billed_per_segment(answer_with):
    answer_with(lambda message: "こんにちは" * 20)
    phone = Phone(channel="whatsapp")

    phone.send("hi")

    assert phone.segments == [(0, None)]


def test_the_shipped_hours_fit_in_one_segment():
    phone = Phone()

    phone.send("HOURS")

    assert phone.segments == [(1, "GSM-7")]


def test_a_later_handlers_send_returns_the_acknowledgement_then_the_later_reply(later_router):
    assert Phone().send("REPORT") == ["Working on it", "done"]


def test_the_later_reply_is_in_last_after_the_answer(later_router):
    phone = Phone()

    phone.send("REPORT")

    assert [message.text for message in phone.last] == ["Working on it", "done"]


def test_a_later_reply_reaches_no_aws_whatever_the_shell_names(aws, later_router):
    Phone().send("REPORT")

    assert calls(aws) == 0


def test_a_text_sent_first_to_another_number_is_in_the_outbox_not_in_the_replies(texting_staff):
    phone = Phone()

    assert phone.send("AGENT") == ["An agent will text you back shortly."]
    assert phone.outbox == [SentText(STAFF, "A customer asks: AGENT")]


def test_a_text_from_a_template_is_in_the_outbox_with_its_template_and_variables(answer_with):
    template = "HX0123456789abcdef0123456789abcdef"
    router = Router()

    @router.fallback
    def confirm(message):
        later.send_text(STAFF, template=template, variables={"1": "Ana"}, key=message.sid)

    answer_with(router)
    phone = Phone()
    phone.send("book")

    assert phone.outbox == [SentText(STAFF, "", (), template, '{"1": "Ana"}')]
    [line] = phone.outbox_file.read_text().splitlines()
    assert {name: json.loads(line)[name] for name in ("body", "template", "variables")} == {
        "body": "",
        "template": template,
        "variables": '{"1": "Ana"}',
    }


def test_the_outbox_holds_the_later_replies_too(later_router):
    phone = Phone()

    phone.send("REPORT")

    assert phone.outbox == [SentText(phone.address, "done")]


def test_a_text_another_thread_sends_meanwhile_is_not_the_sends(answer_with):
    router = Router()

    @router.fallback
    def text_staff_from_another_thread(message):
        texting = threading.Thread(target=later.send_text, args=(STAFF, "hi"), kwargs={"key": "k"})
        texting.start()
        texting.join()
        return "ok"

    answer_with(router)
    phone = Phone()

    assert phone.send("hello") == ["ok"]
    assert phone.outbox == []


def test_the_local_run_installed_before_a_send_is_installed_after_it(later_router):
    before = local_run.installed()

    Phone().send("REPORT")

    assert local_run.installed() is before


def test_a_phones_outbox_is_removed_with_the_phone(later_router):
    phone = Phone()
    phone.send("REPORT")
    outbox = phone.outbox_file
    assert outbox.is_file()

    del phone
    gc.collect()

    assert not outbox.exists()


# Time: the phone's clock


@pytest.fixture
def timed() -> Router:
    """The router of `tests/support/timer_replies.py`: a survey whose question waits an hour,
    reminders to staff."""
    return timer_replies.router


def test_nothing_goes_off_before_its_time(timed):
    phone = Phone(router=timed)
    phone.send("SURVEY")

    assert phone.advance(minutes=59) == []


def test_a_question_unanswered_in_time_goes_off_and_its_text_is_returned(timed):
    phone = Phone(router=timed)
    phone.send("SURVEY")

    assert phone.advance(hours=1) == [SentText(phone.address, "Still there?")]


def test_a_question_answered_in_time_never_goes_off(timed):
    phone = Phone(router=timed)
    phone.send("SURVEY")
    phone.send("a friend")

    assert phone.advance(days=2) == []


def test_a_timer_set_by_a_timer_that_is_due_too_goes_off_in_the_same_advance(timed):
    phone = Phone(router=timed)
    phone.send("SURVEY")

    assert phone.advance(days=2) == [
        SentText(phone.address, "Still there?"),
        SentText(phone.address, "Closed: thanks anyway."),
    ]


def test_a_reminder_to_another_number_is_returned_and_in_the_outbox(timed):
    phone = Phone(router=timed)
    phone.send("REMIND")

    assert phone.advance(minutes=30) == [SentText(timer_replies.STAFF, "Call back soon")]
    assert phone.outbox == [SentText(timer_replies.STAFF, "Call back soon")]


def test_timers_due_in_one_advance_go_off_the_earliest_first(timed):
    phone = Phone(router=timed)
    phone.send("REMIND")  # tomorrow's is set first

    assert [text.body for text in phone.advance(days=1)] == ["Call back soon", "Call back tomorrow"]


def test_timers_lists_what_waits_the_soonest_first(timed):
    phone = Phone(router=timed)
    phone.send("REMIND")
    phone.send("SURVEY")

    assert [(timer.to, timer.handler or timer.body) for timer in phone.timers] == [
        (timer_replies.STAFF, "Call back soon"),
        (phone.address, "nudge"),
        (timer_replies.STAFF, "Call back tomorrow"),
    ]


def test_a_timer_that_went_off_no_longer_waits(timed):
    phone = Phone(router=timed)
    phone.send("REMIND")

    phone.advance(hours=1)

    assert [timer.body for timer in phone.timers] == ["Call back tomorrow"]


def test_a_timer_is_due_when_the_clock_has_moved_on_that_long(timed):
    phone = Phone(router=timed)
    phone.send("SURVEY")
    [deadline] = phone.timers

    assert deadline.due.timestamp() - phone.local_run.clock.now() == pytest.approx(3600, abs=5)


def test_advance_answers_with_the_router_a_test_installed(timed, answer_with):
    answer_with(timed)
    phone = Phone()
    phone.send("SURVEY")

    assert phone.advance(hours=1) == [SentText(phone.address, "Still there?")]


def test_a_timer_going_off_reaches_no_aws_whatever_the_shell_names(timed, aws):
    phone = Phone(router=timed)
    phone.send("SURVEY")

    phone.advance(days=2)

    assert calls(aws) == 0


def test_forgetting_a_phone_forgets_a_stop_it_sent():
    phone = Phone()
    phone.send("STOP")

    phone.forget()

    assert phone.send("HOURS") == ["We're open 9am to 5pm, Monday to Friday."]


def test_a_phone_that_sent_stop_is_opted_out_until_start():
    phone = Phone()
    phone.send("STOP")
    opted_out = phone.opted_out
    phone.send("START")

    assert (opted_out, phone.opted_out) == (True, False)


def a_phone_at_the_start_of_an_hour() -> Phone:
    """A phone whose clock is one second into the next clock hour: its texts of a test fall
    within one hour and one minute."""
    phone = Phone()
    clock = phone.local_run.clock
    clock.move_to((clock.now() // 3600 + 1) * 3600 + 1)
    return phone


def test_the_fourth_identical_text_in_an_hour_is_left_unanswered_and_said_why():
    phone = a_phone_at_the_start_of_an_hour()
    answers = [phone.send("HOURS") for _ in range(4)]

    assert [bool(answer) for answer in answers] == [True, True, True, False]
    assert phone.suppressed == "more than 3 identical texts this clock hour"


def test_an_hour_later_the_same_text_is_answered_again():
    phone = a_phone_at_the_start_of_an_hour()
    for _ in range(4):
        phone.send("HOURS")

    phone.advance(hours=1)

    assert phone.send("HOURS") == ["We're open 9am to 5pm, Monday to Friday."]
    assert phone.suppressed is None


def test_forgetting_a_phone_forgets_the_texts_the_loop_guard_counted():
    phone = a_phone_at_the_start_of_an_hour()
    for _ in range(4):
        phone.send("HOURS")

    phone.forget()

    assert phone.send("HOURS") == ["We're open 9am to 5pm, Monday to Friday."]
