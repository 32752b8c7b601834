"""Which messages opt their sender out, or back in, matched as Twilio matches its keywords."""

import json
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest

from sms_webhook import senders
from sms_webhook.consent import (
    OPTED_IN_CONFIRMATION,
    OPTED_OUT_CONFIRMATION,
    ConsentChange,
    consent_change,
)
from sms_webhook.form import FormFields
from sms_webhook.jobs import TextJob, encode
from sms_webhook.later import InvalidTextError, send_text
from sms_webhook.message import IncomingMessage
from sms_webhook.origin import replying_to
from sms_webhook.router import Router
from sms_webhook.senders import opted_out, record_consent
from tests.support.recording_twilio import ACCOUNT_SID
from tests.support.twilio_requests import (
    SENDER,
    SMS,
    TWILIO_NUMBER,
    WHATSAPP,
    signed_message,
    with_fields,
)
from tests.support.worker_jobs import text_job, work

OPTED_OUT = ConsentChange(opted_out=True)
OPTED_IN = ConsentChange(opted_out=False)
YES_FROM_AN_OPTED_OUT_SENDER = ConsentChange(opted_out=False, only_if_opted_out=True)


def sms(body: str, **fields: str) -> IncomingMessage:
    return IncomingMessage.from_fields(FormFields.from_pairs(with_fields(SMS, Body=body, **fields)))


@pytest.mark.parametrize(
    "word", ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
)
def test_each_of_twilios_opt_out_words_opts_out(word):
    assert consent_change(sms(word)) == OPTED_OUT


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES"])
def test_each_of_twilios_opt_in_words_opts_back_in_a_sender_who_opted_out(word):
    assert consent_change(sms(word)) == YES_FROM_AN_OPTED_OUT_SENDER


def test_a_keyword_matches_in_any_case_with_spaces_around():
    assert consent_change(sms("  Stop \n")) == OPTED_OUT


def test_a_keyword_inside_a_sentence_is_no_opt_out():
    assert consent_change(sms("We have got to STOP this bill")) is None


def test_a_keyword_with_more_after_it_is_no_opt_out():
    assert consent_change(sms("STOP 12345")) is None


def test_any_other_message_changes_nothing():
    assert consent_change(sms("How are you doing?")) is None


def test_twilios_opt_out_type_wins_over_the_words():
    assert consent_change(sms("ARRET", OptOutType="STOP")) == OPTED_OUT


def test_twilios_opt_out_type_start_opts_in_whoever_sends_it():
    assert consent_change(sms("stop", OptOutType="START")) == OPTED_IN


def test_help_is_neither_an_opt_out_nor_an_opt_in():
    assert consent_change(sms("HELP", OptOutType="HELP")) is None


def test_a_whatsapp_stop_is_an_ordinary_message():
    message = IncomingMessage.from_fields(FormFields.from_pairs(with_fields(WHATSAPP, Body="STOP")))
    assert consent_change(message) is None


def test_a_whatsapp_message_twilio_names_an_opt_out_opts_out():
    fields = with_fields(WHATSAPP, Body="STOP", OptOutType="STOP")
    assert consent_change(IncomingMessage.from_fields(FormFields.from_pairs(fields))) == OPTED_OUT


# Through the webhook and the worker


def sms_event(body: str, **fields: str):
    return signed_message(SMS, Body=body, **fields)


def test_deployed_a_stop_is_recorded_and_answered_with_nothing(invoke, received, senders_table):
    response = invoke(sms_event("stop"))

    assert "<Message" not in response["body"]
    assert received == []
    assert opted_out(TWILIO_NUMBER, SENDER)


def test_deployed_any_other_message_costs_no_call_to_the_senders_table(
    invoke, received, senders_table, monkeypatch
):
    monkeypatch.setattr(senders, "_store", lambda: pytest.fail("the senders' store was asked"))

    invoke(sms_event("We have got to STOP this bill"))

    assert [message.body for message in received] == ["We have got to STOP this bill"]


def test_yes_from_who_never_opted_out_reaches_the_handlers(invoke, received, senders_table):
    invoke(sms_event("YES"))

    assert [message.body for message in received] == ["YES"]


def test_the_routers_opt_out_and_opt_in_handlers_run_their_replies_dropped(
    invoke, answer_with, senders_table
):
    router = Router()
    seen = []

    @router.opt_out
    def goodbye(message, conversation):
        seen.append(("out", message.body))
        return "bye"

    @router.opt_in
    def welcome(message):
        seen.append(("in", message.body))
        return "hi"

    answer_with(router)

    answers = [invoke(sms_event(body))["body"] for body in ("STOP", "START")]

    assert seen == [("out", "STOP"), ("in", "START")]
    assert not any("<Message" in answer for answer in answers)


def test_locally_stop_gets_twilios_confirmation_then_replies_are_blocked(invoke, received, logs):
    assert OPTED_OUT_CONFIRMATION in invoke(sms_event("STOP"))["body"]

    answer = invoke(sms_event("hello?"))["body"]

    assert "<Message" not in answer
    assert [message.body for message in received] == ["hello?"]  # the handler still ran
    assert any(line.startswith("reply blocked") for line in logs.messages())


def test_locally_start_gets_twilios_confirmation_and_replies_go_again(invoke, received):
    invoke(sms_event("STOP"))

    assert escape(OPTED_IN_CONFIRMATION) in invoke(sms_event("start"))["body"]
    assert ">ok</Message>" in invoke(sms_event("hello?"))["body"]


def test_a_text_to_an_opted_out_number_is_refused_logged_and_counted(logs, published):
    record_consent(TWILIO_NUMBER, SENDER, opted_out=True)

    with (
        replying_to(message_from(), None),
        pytest.raises(InvalidTextError, match="opted out"),
    ):
        send_text(SENDER, "Your table is ready", key="k", at=timedelta(hours=1))

    assert "text refused: the recipient opted out" in logs.messages()
    assert [metric["name"] for metric in published()] == ["TextsRefusedOptedOut"]


def test_a_text_is_sent_when_the_senders_table_is_out_of_reach(
    aws_account, monkeypatch, answer_with, tmp_path
):
    monkeypatch.setenv("SENDERS_TABLE", "NoSuchTable")
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    answer_with(Router())

    with replying_to(message_from(), None):
        send_text(SENDER, "Your table is ready", key="k")

    assert "Your table is ready" in (tmp_path / "outbox.jsonl").read_text()


def test_twilios_21610_in_the_worker_records_the_opt_out(
    idempotency_table, twilio_api, answer_with, sending_account
):
    answer_with(Router())
    twilio_api.outcomes = [(400, 21610)]

    work(text_job(to=SENDER))

    assert opted_out(TWILIO_NUMBER, SENDER)


def message_from() -> IncomingMessage:
    return IncomingMessage.from_fields(FormFields.from_pairs(SMS))


def test_a_text_from_the_stacks_send_from_counts_that_numbers_opt_outs(monkeypatch, senders_table):
    monkeypatch.setenv("SEND_FROM", "+15005550001")
    record_consent("+15005550001", SENDER, opted_out=True)

    with replying_to(message_from(), None), pytest.raises(InvalidTextError, match="opted out"):
        send_text(SENDER, "Your table is ready", key="k")


def test_a_text_the_opt_out_handler_sends_goes_as_the_message_answered(
    invoke, answer_with, senders_table, monkeypatch, tmp_path
):
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    router = Router()

    @router.opt_out
    def tell_the_staff(message):
        send_text("+14155550100", "A customer opted out.", key=message.sid)

    answer_with(router)

    invoke(sms_event("STOP"))

    [line] = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line)["sender"] == TWILIO_NUMBER


def test_a_text_queued_before_an_opt_out_is_refused_by_the_worker_twilio_never_asked(
    idempotency_table, twilio_api, answer_with, sending_account, published
):
    answer_with(Router())
    record_consent(TWILIO_NUMBER, SENDER, opted_out=True)

    assert work(text_job(to=SENDER)) == {"batchItemFailures": []}

    assert twilio_api.forms == []
    assert "TextsRefusedOptedOut" in [metric["name"] for metric in published()]


def test_a_text_queued_through_a_messaging_service_counts_the_opt_outs_of_the_number_answered(
    idempotency_table, twilio_api, answer_with, monkeypatch
):
    answer_with(Router())
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    service = "MG0123456789abcdef0123456789abcdef"
    record_consent(TWILIO_NUMBER, SENDER, opted_out=True)

    work(encode(TextJob(SENDER, "Your table", (), "k", "", service, None, number=TWILIO_NUMBER)))

    assert twilio_api.forms == []
