"""The reply code that ships: an auto-reply."""

from twilio_requests import SMS

from replies import DEFAULT_REPLY_MESSAGE, reply
from sms_webhook.form import FormFields
from sms_webhook.message import IncomingMessage

MESSAGE = IncomingMessage.from_fields(FormFields.from_pairs(SMS))


def test_default_reply_is_the_questing_message():
    assert reply(MESSAGE) == DEFAULT_REPLY_MESSAGE == "I'm busy questing right now!"


def test_reply_message_setting_replaces_the_default(monkeypatch):
    monkeypatch.setenv("REPLY_MESSAGE", "Back in five minutes")

    assert reply(MESSAGE) == "Back in five minutes"
