"""The incoming message handed to reply code, and how phone numbers appear in logs."""

import pytest
from twilio_requests import SMS, with_fields

from sms_webhook.form import FormFields
from sms_webhook.message import IncomingMessage, Media, masked_number

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


def test_missing_fields_are_empty_strings():
    message = IncomingMessage.from_fields(FormFields())

    assert (message.sid, message.from_number, message.body) == ("", "", "")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155551234", "+1415***1234"),
        ("+447700900123", "+4477***0123"),
        ("whatsapp:+14155551234", "whatsapp:+1415***1234"),
        ("12345", "***"),
        ("", "***"),
    ],
)
def test_numbers_are_masked_for_logs(number, masked):
    assert masked_number(number) == masked
