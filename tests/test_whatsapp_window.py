"""WhatsApp's 24-hour window: noted from each WhatsApp message, kept before a text is queued and
again when it goes."""

import json
import threading
import time
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest

from devtools.phone import Phone
from sms_webhook import senders
from sms_webhook.form import FormFields
from sms_webhook.jobs import TextJob, encode
from sms_webhook.later import OutsideWhatsAppWindowError, send_text
from sms_webhook.message import IncomingMessage
from sms_webhook.origin import replying_to
from sms_webhook.router import Router
from sms_webhook.whatsapp_window import WINDOW, is_open
from tests.conftest import SENDERS_TABLE
from tests.support.twilio_requests import (
    SMS,
    TEMPLATE_SID,
    TWILIO_NUMBER,
    WHATSAPP,
    signed_message,
    with_fields,
)
from tests.support.worker_jobs import reply_job, text_job, work

PERSON = "whatsapp:+14155550100"
HOUR = 3600


def test_a_window_is_open_for_24_hours_after_the_last_message():
    assert is_open(1000.0, 1000.0 + WINDOW - 1)
    assert not is_open(1000.0, 1000.0 + WINDOW)


def test_no_last_message_is_a_shut_window():
    assert not is_open(None, time.time())


def whatsapp_event(body: str = "Hi there"):
    return signed_message(WHATSAPP, Body=body)


def whatsapp_sender() -> tuple[str, str]:
    message = IncomingMessage.from_fields(FormFields.from_pairs(WHATSAPP))
    return message.to_number, message.from_number


def test_deployed_a_whatsapp_message_notes_when_its_sender_wrote(invoke, received, senders_table):
    before = time.time()

    invoke(whatsapp_event())

    kept = senders.read(*whatsapp_sender())
    assert kept is not None
    assert kept.last_message_at is not None
    assert before <= kept.last_message_at <= time.time()
    assert [message.body for message in received] == ["Hi there"]


def test_deployed_an_sms_costs_no_call_to_the_senders_table(
    invoke, received, senders_table, monkeypatch
):
    monkeypatch.setattr(senders, "_store", lambda: pytest.fail("the senders' store was asked"))
    invoke(signed_message(SMS, Body="Hi there"))

    assert [message.body for message in received] == ["Hi there"]


def test_an_opted_out_whatsapp_sender_is_not_noted_and_never_forgotten(senders_table):
    number, person = whatsapp_sender()
    senders.record_consent(number, person, opted_out=True)

    senders.record_whatsapp_message(number, person, time.time())

    item = senders_table.get_item(TableName=SENDERS_TABLE, Key={"id": {"S": f"{number} {person}"}})[
        "Item"
    ]
    assert "last_message_at" not in item
    assert "expires_at" not in item


def test_a_whatsapp_message_is_answered_when_the_senders_table_is_out_of_reach(
    invoke, received, aws_account, monkeypatch, published
):
    monkeypatch.setenv("SENDERS_TABLE", "NoSuchTable")

    answer = invoke(whatsapp_event())

    assert ">ok</Message>" in answer["body"]
    assert "SendersStoreFailures" in [metric["name"] for metric in published()]


def answering_a_whatsapp_message() -> AbstractContextManager[None]:
    message = IncomingMessage.from_fields(
        FormFields.from_pairs(with_fields(WHATSAPP, To=f"whatsapp:{TWILIO_NUMBER}"))
    )
    return replying_to(message, None)


@pytest.fixture
def outbox(answer_with, tmp_path, monkeypatch):
    """Where texts sent now go (a local run, no queue): read back as text."""
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    answer_with(Router())
    return lambda: (
        (tmp_path / "outbox.jsonl").read_text() if (tmp_path / "outbox.jsonl").exists() else ""
    )


def test_a_text_to_whoever_wrote_within_24_hours_goes(outbox, wrote_on_whatsapp):
    wrote_on_whatsapp(PERSON, time.time() - 23 * HOUR)

    with answering_a_whatsapp_message():
        send_text(PERSON, "Your order shipped", key="k")

    assert "Your order shipped" in outbox()


def test_a_text_to_whoever_wrote_more_than_24_hours_ago_is_refused_logged_and_counted(
    outbox, wrote_on_whatsapp, logs, published
):
    wrote_on_whatsapp(PERSON, time.time() - 25 * HOUR)

    with (
        answering_a_whatsapp_message(),
        pytest.raises(OutsideWhatsAppWindowError, match="template"),
    ):
        send_text(PERSON, "Your order shipped", key="k")

    assert outbox() == ""
    assert "text refused: outside WhatsApp's 24-hour window" in logs.messages()
    assert [metric["name"] for metric in published()] == ["TextsRefusedOutsideWindow"]


def test_a_text_to_whoever_never_wrote_is_refused(outbox):
    with answering_a_whatsapp_message(), pytest.raises(OutsideWhatsAppWindowError):
        send_text(PERSON, "Hello from us", key="k")


def test_a_reminder_due_after_the_window_shuts_is_refused_when_set(outbox, wrote_on_whatsapp):
    wrote_on_whatsapp(PERSON)

    with answering_a_whatsapp_message(), pytest.raises(OutsideWhatsAppWindowError):
        send_text(PERSON, "See you tomorrow", key="k", at=timedelta(hours=25))


def test_an_sms_is_not_held_to_whatsapps_window(outbox):
    with answering_a_whatsapp_message():
        send_text("+14155550100", "Hello from us", key="k")

    assert "Hello from us" in outbox()


def test_without_a_senders_store_a_whatsapp_text_goes(outbox, monkeypatch):
    monkeypatch.delenv("CONVERSATION_FILE")

    with answering_a_whatsapp_message():
        send_text(PERSON, "Hello from us", key="k")

    assert "Hello from us" in outbox()


def test_the_worker_refuses_a_text_whose_window_shut_after_it_was_queued(
    idempotency_table, sending_account, twilio_api, wrote_on_whatsapp, logs, published
):
    wrote_on_whatsapp(PERSON, time.time() - 25 * HOUR)

    assert work(text_job(to=PERSON)) == {"batchItemFailures": []}

    assert twilio_api.forms == []
    assert "text refused: outside WhatsApp's 24-hour window" in logs.messages()
    assert "TextsRefusedOutsideWindow" in [metric["name"] for metric in published()]


def test_the_worker_sends_a_text_while_the_window_is_open(
    idempotency_table, sending_account, twilio_api, wrote_on_whatsapp
):
    wrote_on_whatsapp(PERSON)

    work(text_job(to=PERSON))

    assert [form["To"] for form in twilio_api.forms] == [PERSON]


@pytest.fixture
def nudging() -> Router:
    """A bot that, asked NUDGE, sets a timer whose handler writes its text 30 hours on."""
    router = Router()

    @router.keyword("NUDGE")
    def nudge_later(message):
        send_text(message.from_number, at=timedelta(hours=30), handler="nudge", key=message.sid)
        return "I will nudge you."

    @router.timer
    def nudge(timer, conversation):
        return "Still there?"

    router.fallback(lambda message: "ok")
    return router


def test_locally_a_timers_text_is_not_sent_once_the_window_has_shut(nudging, logs):
    phone = Phone(channel="whatsapp", router=nudging)
    phone.send("NUDGE")

    assert phone.advance(hours=31) == []
    assert "text refused: outside WhatsApp's 24-hour window" in logs.messages()


def test_locally_a_message_in_between_keeps_the_window_open_for_the_timer(nudging):
    phone = Phone(channel="whatsapp", router=nudging)
    phone.send("NUDGE")
    phone.advance(hours=10)
    phone.send("still here")

    assert [text.body for text in phone.advance(hours=21)] == ["Still there?"]


def test_forgetting_a_phone_forgets_its_window(nudging):
    phone = Phone(channel="whatsapp", router=nudging)
    phone.send("NUDGE")
    phone.advance(hours=10)
    phone.send("still here")

    phone.forget()

    assert phone.advance(hours=21) == []


def test_locally_messages_noted_at_once_are_all_kept(monkeypatch, tmp_path):
    people = [f"whatsapp:+1415555{n:04d}" for n in range(20)]
    start = threading.Barrier(len(people))

    def write(person: str) -> None:
        start.wait()
        senders.record_whatsapp_message(f"whatsapp:{TWILIO_NUMBER}", person, time.time())

    threads = [threading.Thread(target=write, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    kept = [senders.read(f"whatsapp:{TWILIO_NUMBER}", person) for person in people]
    assert all(record and record.last_message_at for record in kept)


def test_a_template_goes_outside_the_window(outbox):
    with answering_a_whatsapp_message():
        send_text(PERSON, template=TEMPLATE_SID, variables={"1": "Ana"}, key="k")

    assert TEMPLATE_SID in outbox()


def test_the_worker_sends_a_template_whose_window_has_shut(
    idempotency_table, sending_account, twilio_api, wrote_on_whatsapp
):
    wrote_on_whatsapp(PERSON, time.time() - 25 * HOUR)

    work(encode(TextJob(PERSON, "", (), "k", "", "", None, template=TEMPLATE_SID)))

    assert [form["ContentSid"] for form in twilio_api.forms] == [TEMPLATE_SID]


def test_a_text_to_the_sender_answered_goes_though_the_note_of_their_message_was_lost(
    invoke, answer_with, senders_table, monkeypatch
):
    def fails(*args):
        raise ConnectionError

    monkeypatch.setattr(senders.DynamoDBStore, "record_message", fails)
    router = Router()

    @router.fallback
    def tell_them_later(message):
        send_text(message.from_number, "Your order shipped", key=message.sid)
        return "ok"

    answer_with(router)

    assert ">ok</Message>" in invoke(whatsapp_event())["body"]


def test_a_later_reply_goes_while_its_message_keeps_the_window_open_with_no_read(
    idempotency_table, twilio_api, answering_later, senders_table, monkeypatch
):
    monkeypatch.setattr(senders, "read", lambda *args: pytest.fail("the senders' table was read"))

    work(reply_job(answering_later(lambda message: "Done"), WHATSAPP))

    assert [form["Body"] for form in twilio_api.forms] == ["Done"]


def test_a_later_reply_that_would_go_a_day_after_its_message_is_refused(
    idempotency_table, twilio_api, answering_later, senders_table, published
):
    router = answering_later(lambda message: "Done at last")
    job = json.loads(reply_job(router, WHATSAPP))
    job["queued_at"] = int(time.time() - 25 * HOUR)

    work(json.dumps(job))

    assert twilio_api.forms == []
    assert "TextsRefusedOutsideWindow" in [metric["name"] for metric in published()]
