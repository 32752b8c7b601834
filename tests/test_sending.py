"""Sending one message (`sms_webhook/sending.py`): what twilio's REST client is asked, and what
each of Twilio's answers means for a retry (against a recording stand-in of Twilio's API)."""

import pytest
from twilio.http.response import Response

from sms_webhook.sending import (
    Outgoing,
    RefusedError,
    RetryableError,
    TwilioError,
    UnansweredError,
    to_twilio,
)
from tests.support.recording_twilio import ACCOUNT_SID
from tests.support.twilio_requests import TOKEN, TWILIO_NUMBER

STAFF = "+14155550100"
TEMPLATE = "HX0123456789abcdef0123456789abcdef"
TEXT = Outgoing(ACCOUNT_SID, STAFF, TWILIO_NUMBER, "hello", (), "https://x.test/status")


def test_a_text_is_sent_as_its_account_and_its_sid_returned(twilio_api):
    sid = to_twilio(TEXT)

    [request] = twilio_api.requests
    assert sid.startswith("SM")
    assert request.auth == (ACCOUNT_SID, TOKEN)
    assert twilio_api.forms == [
        {
            "To": STAFF,
            "From": TWILIO_NUMBER,
            "Body": "hello",
            "StatusCallback": TEXT.status_callback,
        }
    ]


def test_a_template_is_sent_by_its_sid_with_its_variables_as_json_and_no_body(twilio_api):
    template = TEXT._replace(body="", template=TEMPLATE, variables='{"1": "Ana", "2": "3時"}')

    to_twilio(template)

    [form] = twilio_api.forms
    assert (form["ContentSid"], form["ContentVariables"], "Body" in form) == (
        TEMPLATE,
        '{"1": "Ana", "2": "3時"}',
        False,
    )


def test_a_messaging_service_sends_in_place_of_a_number(twilio_api):
    service = "MG0123456789abcdef0123456789abcdef"

    to_twilio(TEXT._replace(sender=service))

    assert (twilio_api.forms[0]["MessagingServiceSid"], "From" in twilio_api.forms[0]) == (
        service,
        False,
    )


@pytest.mark.parametrize("code", ["21211", "21610", "21612", "21614", "21617", "63016", "63021"])
def test_a_refusal_of_the_recipient_is_final(twilio_api, code):
    twilio_api.outcomes = [(400, int(code))]

    with pytest.raises(RefusedError) as refused:
        to_twilio(TEXT)

    assert (refused.value.code, refused.value.counted_as) == (code, code)


@pytest.mark.parametrize(
    ("outcome", "code", "counted_as"),
    [
        ((429, None), "20429", "20429"),
        ((503, 20503), "20503", "5xx"),
        ((401, 20003), "20003", "20003"),
    ],
    ids=["throttled", "outage", "rejected key"],
)
def test_any_other_error_may_be_mended_and_is_retryable(twilio_api, outcome, code, counted_as):
    twilio_api.outcomes = [outcome]

    with pytest.raises(RetryableError) as error:
        to_twilio(TEXT)

    assert (error.value.code, error.value.counted_as) == (code, counted_as)


def test_an_unknown_error_code_is_counted_as_other():
    assert TwilioError("99999", 400).counted_as == "other"


def test_an_answer_that_names_no_message_leaves_the_text_maybe_sent(twilio_api, monkeypatch):
    monkeypatch.setattr(twilio_api, "answer", lambda method, data: Response(201, "{}"))

    with pytest.raises(UnansweredError, match="unreadable"):
        to_twilio(TEXT)
