"""Smart encoding (`SMART_ENCODING=on`): Twilio's look-alikes replaced so that a text stays
GSM-7, in the webhook's replies and the worker's texts to phone numbers, and nowhere else."""

import pytest

from devtools.twiml_answer import twiml_messages
from sms_webhook.segments import GSM_7, UCS_2, encoding, segments, smart_encodes_for
from sms_webhook.smart_encoding import LOOK_ALIKES, smart_encoded
from sms_webhook.twiml import messaging_response
from tests.support.twilio_requests import (
    REST_URL,
    SENDER,
    WHATSAPP,
    rest_request,
    signed,
)
from tests.support.worker_jobs import text_job, work

WORD_PROCESSED = "\u201cWe\u2019re open\u201d \u2014 9\u201317\u00a0h\u2026 \u00bd price"
"""Curly quotes and apostrophe, an em and an en dash, a no-break space, an ellipsis, a half."""
PLAIN = '"We\'re open" - 9-17 h... 1/2 price'


@pytest.fixture
def smart_encoding(monkeypatch):
    monkeypatch.setenv("SMART_ENCODING", "on")


# The rule


def test_look_alikes_are_replaced_by_their_gsm_7_counterparts():
    assert encoding(WORD_PROCESSED) == UCS_2
    assert smart_encoded(WORD_PROCESSED) == PLAIN


def test_a_reply_of_150_characters_with_curly_quotes_is_one_segment_instead_of_three():
    text = "\u201c" + "a" * 148 + "\u201d"

    assert (segments(text), segments(smart_encoded(text))) == ((3, UCS_2), (1, GSM_7))


@pytest.mark.parametrize("text", ["Hello", "", "50\u20ac {at} [me]", "caf\u00e9 \u00e0 \u00a3"])
def test_a_gsm_7_text_is_left_as_it_is(text):
    assert smart_encoded(text) is text


@pytest.mark.parametrize("text", ["\u201cThanks\u201d \U0001f600", "\u300cはい\u300d\u2026"])
def test_a_text_that_stays_ucs_2_anyway_is_left_as_it_is(text):
    """As Twilio's Smart Encoding: an emoji or Japanese keeps the whole text UCS-2, where the
    curly quotes cost nothing more."""
    assert smart_encoded(text) == text


def test_every_replacement_is_gsm_7_and_every_character_replaced_is_not():
    replaced = "".join(map(chr, LOOK_ALIKES))

    assert all(encoding(character) == UCS_2 for character in replaced)
    assert encoding("".join(LOOK_ALIKES.values())) == GSM_7
    assert smart_encoded(replaced) == "".join(LOOK_ALIKES.values())


def test_the_table_is_twilios_list_of_270_characters():
    """twilio.com/docs/messaging/services/smart-encoding-char-list, as Twilio's segment
    calculator holds it, with the choices the module's doc says."""
    assert len(LOOK_ALIKES) == 270
    assert {chr(c): LOOK_ALIKES[c] for c in map(ord, "\u00bc\u203c\u2026\uff21\u1d00\u0060")} == {
        "\u00bc": "1/4",
        "\u203c": "!!",
        "\u2026": "...",
        "\uff21": "A",
        "\u1d00": "A",
        "\u0060": "'",
    }
    assert smart_encoded("\u2039a\u203a\tb\u3000c\u200bd") == "<a> b cd"


def test_it_applies_to_phone_numbers_when_on_and_never_to_other_channels(monkeypatch):
    assert not smart_encodes_for(SENDER)

    monkeypatch.setenv("SMART_ENCODING", "on")

    assert smart_encodes_for(SENDER)
    assert smart_encodes_for("12345")
    assert not smart_encodes_for("whatsapp:+14155551234")


# Through the webhook


def test_the_webhooks_reply_is_smart_encoded_when_on(smart_encoding, invoke, answer_with, logs):
    answer_with(lambda message: WORD_PROCESSED)

    answer = invoke(signed(rest_request(), REST_URL))

    assert [message.text for message in twiml_messages(answer["body"])] == [PLAIN]
    assert (logs.records[-1]["segments"], logs.records[-1]["encoding"]) == (1, GSM_7)


def test_the_webhooks_reply_is_as_written_when_off(invoke, answer_with, logs):
    answer_with(lambda message: WORD_PROCESSED)

    answer = invoke(signed(rest_request(), REST_URL))

    assert [message.text for message in twiml_messages(answer["body"])] == [WORD_PROCESSED]
    assert logs.records[-1]["encoding"] == UCS_2


def test_a_whatsapp_reply_is_as_written_even_when_on(smart_encoding, invoke, answer_with):
    answer_with(lambda message: WORD_PROCESSED)

    answer = invoke(signed(rest_request("POST", WHATSAPP), REST_URL, WHATSAPP))

    assert [message.text for message in twiml_messages(answer["body"])] == [WORD_PROCESSED]


# Through the worker


@pytest.mark.usefixtures("idempotency_table", "sending_account", "smart_encoding")
def test_the_workers_text_to_a_number_is_smart_encoded_when_on(twilio_api):
    work(text_job(to="+14155550100", body=WORD_PROCESSED))

    assert [form["Body"] for form in twilio_api.forms] == [PLAIN]


@pytest.mark.usefixtures("idempotency_table", "sending_account", "smart_encoding")
def test_the_workers_text_on_whatsapp_is_as_written_even_when_on(twilio_api, wrote_on_whatsapp):
    wrote_on_whatsapp("whatsapp:+14155550100")

    work(text_job(to="whatsapp:+14155550100", body=WORD_PROCESSED))

    assert [form["Body"] for form in twilio_api.forms] == [WORD_PROCESSED]


@pytest.mark.usefixtures("idempotency_table", "sending_account")
def test_the_workers_text_is_as_written_when_off(twilio_api):
    work(text_job(to="+14155550100", body=WORD_PROCESSED))

    assert [form["Body"] for form in twilio_api.forms] == [WORD_PROCESSED]


def test_a_reply_is_smart_encoded_as_twilio_gets_it_after_what_xml_cannot_carry_is_dropped():
    document = messaging_response("It\u2019s here\x0b", smart_encoding=True)

    assert "<Message>It's here</Message>" in document
