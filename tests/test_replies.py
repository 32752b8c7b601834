"""The reply code that ships: two examples and the auto-reply."""

from twilio_requests import SMS, with_fields

from replies import DEFAULT_REPLY_MESSAGE, reply
from sms_webhook.form import FormFields
from sms_webhook.message import IncomingMessage


def message(**fields: str) -> IncomingMessage:
    return IncomingMessage.from_fields(FormFields.from_pairs(with_fields(SMS, **fields)))


def test_any_text_gets_the_questing_auto_reply():
    assert reply(message()) == DEFAULT_REPLY_MESSAGE == "I'm busy questing right now!"


def test_reply_message_setting_replaces_the_auto_reply(monkeypatch):
    monkeypatch.setenv("REPLY_MESSAGE", "Back in five minutes")

    assert reply(message()) == "Back in five minutes"


def test_hours_example_answers_the_hours_keyword():
    assert reply(message(Body=" hours ")) == "We're open 9am to 5pm, Monday to Friday."


def test_media_example_answers_with_the_count_and_types():
    mms = message(
        Body="look",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/m/1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/m/2",
        MediaContentType1="video/mp4",
    )

    assert reply(mms) == "Got your 2 attachment(s): image/jpeg, video/mp4."
