"""Which messages opt their sender out, or back in, matched as Twilio matches its keywords."""

import pytest

from sms_webhook.consent import ConsentChange, consent_change
from sms_webhook.form import FormFields
from sms_webhook.message import IncomingMessage
from tests.support.twilio_requests import SMS, WHATSAPP, with_fields

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
