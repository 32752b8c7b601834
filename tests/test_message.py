"""The incoming message handed to reply code, and how phone numbers appear in logs."""

import pytest
from twilio_requests import SMS, with_fields

from sms_webhook.form import FormFields
from sms_webhook.message import IncomingMessage, MalformedMessageError, Media

MMS = with_fields(
    SMS,
    NumMedia="2",
    MediaUrl0="https://api.twilio.com/media/ME1",
    MediaContentType0="image/jpeg",
    MediaUrl1="https://api.twilio.com/media/ME2",
    MediaContentType1="video/mp4",
)


def test_message_has_sid_numbers_and_body():
    message = IncomingMessage.from_fields(FormFields.from_pairs(SMS))

    assert (message.sid, message.from_number, message.to_number, message.body) == (
        "SM0123456789abcdef0123456789abcdef",
        "+14155551234",
        "+15005550006",
        "How are you doing?",
    )


def test_sms_has_no_media():
    assert IncomingMessage.from_fields(FormFields.from_pairs(SMS)).media == ()


def test_mms_media_come_with_their_content_types_in_order():
    message = IncomingMessage.from_fields(FormFields.from_pairs(MMS))

    assert message.media == (
        Media("https://api.twilio.com/media/ME1", "image/jpeg"),
        Media("https://api.twilio.com/media/ME2", "video/mp4"),
    )


def test_media_are_read_from_the_urls_even_when_num_media_disagrees():
    fields = FormFields.from_pairs(with_fields(MMS, NumMedia="7"))

    assert len(IncomingMessage.from_fields(fields).media) == 2


def test_every_field_twilio_sent_is_available():
    message = IncomingMessage.from_fields(FormFields.from_pairs(SMS))

    assert message.fields["FromCity"] == "SAN FRANCISCO"
    assert len(message.fields) == len(SMS)


def test_the_account_is_known():
    message = IncomingMessage.from_fields(FormFields.from_pairs(SMS))

    assert message.account_sid == "AC0123456789abcdef0123456789abcdef"


def test_a_body_not_sent_is_an_empty_string():
    fields = [(name, value) for name, value in SMS if name != "Body"]

    assert IncomingMessage.from_fields(FormFields.from_pairs(fields)).body == ""


@pytest.mark.parametrize("name", ["MessageSid", "AccountSid", "From", "To"])
def test_a_message_without_a_field_twilio_always_sends_is_malformed(name):
    fields = [(field, value) for field, value in SMS if field != name]

    with pytest.raises(MalformedMessageError, match=name):
        IncomingMessage.from_fields(FormFields.from_pairs(fields))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MessageSid", ""),
        ("MessageSid", "SM0123456789abcdef0123456789abcde"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef0"),
        ("MessageSid", "XX0123456789abcdef0123456789abcdef"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdefNumMedia0"),
        ("AccountSid", "AC0123"),
        ("AccountSid", "SM0123456789abcdef0123456789abcdef"),
        ("From", ""),
        ("From", "+1415555123FromCitySAN FRANCISCO"),
        ("To", "+0123"),
        ("To", "whatsapp:+14155238886WaId14155551234"),
        ("From", "whatsapp:+14155551234Label"),
        ("From", "messenger:123Body"),
    ],
)
def test_a_field_twilio_always_sends_in_another_form_is_malformed(name, value):
    with pytest.raises(MalformedMessageError, match=name):
        IncomingMessage.from_fields(FormFields.from_pairs(with_fields(SMS, **{name: value})))


def test_a_field_twilio_sends_once_sent_twice_is_malformed():
    fields = [*SMS, ("From", "+14155550000")]

    with pytest.raises(MalformedMessageError, match="From"):
        IncomingMessage.from_fields(FormFields.from_pairs(fields))


@pytest.mark.parametrize(
    "address",
    [
        "+14155551234",
        "+447700900123",
        "12345",
        "whatsapp:+14155551234",
        "messenger:1234",
        "rcs:acme_support_agent",
    ],
)
def test_numbers_short_codes_and_channel_addresses_are_well_formed(address):
    fields = FormFields.from_pairs(with_fields(SMS, From=address))

    assert IncomingMessage.from_fields(fields).from_number == address
