"""The incoming message handed to reply code, and how phone numbers appear in logs."""

import pytest

from sms_webhook.form import FormFields
from sms_webhook.message import (
    Button,
    IncomingMessage,
    Location,
    MalformedMessageError,
    Media,
    Referral,
)
from tests.support.twilio_requests import SMS, WHATSAPP, with_fields

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


# Channels: the same message, whichever channel it came by

AD_REFERRAL = {
    "ReferralSourceId": "120208765432100123",
    "ReferralSourceType": "ad",
    "ReferralSourceUrl": "https://fb.me/3xAmPl3",
    "ReferralHeadline": "Quests for the whole family",
    "ReferralBody": "Book a quest this weekend",
    "ReferralMediaId": "1054321987654321",
    "ReferralMediaContentType": "image/jpeg",
    "ReferralMediaUrl": "https://scontent.xx.fbcdn.net/v/quest.jpg",
    "ReferralNumMedia": "1",
    "ReferralCtwaClid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLM",
}
"""The fields of a message sent from a click-to-WhatsApp ad."""


def whatsapp(**changes: str) -> IncomingMessage:
    return IncomingMessage.from_fields(FormFields.from_pairs(with_fields(WHATSAPP, **changes)))


@pytest.mark.parametrize(
    ("sender", "number", "channel"),
    [
        ("+14155551234", "+15005550006", "sms"),
        ("+14155551234", "12345", "sms"),
        ("whatsapp:+14155551234", "whatsapp:+14155238886", "whatsapp"),
        ("messenger:1234567890", "messenger:9876543210", "messenger"),
        ("rcs:+14155551234", "rcs:acme_support_agent", "rcs"),
        ("viber:+14155551234", "viber:+15005550006", "viber"),
    ],
)
def test_the_channel_is_the_prefix_of_the_addresses_and_sms_without_one(sender, number, channel):
    fields = FormFields.from_pairs(with_fields(SMS, From=sender, To=number))

    assert IncomingMessage.from_fields(fields).channel == channel


def test_a_sender_without_a_prefix_takes_the_channel_of_your_address():
    fields = FormFields.from_pairs(with_fields(SMS, To="rcs:acme_support_agent"))

    assert IncomingMessage.from_fields(fields).channel == "rcs"


def test_a_whatsapp_message_has_its_senders_profile_name_and_whatsapp_id():
    message = whatsapp()

    assert (message.channel, message.profile_name, message.whatsapp_id) == (
        "whatsapp",
        "Ada Lovelace",
        "14155551234",
    )
    assert message.from_number == "whatsapp:+14155551234"


def test_an_sms_has_none_of_whatsapps_fields():
    message = IncomingMessage.from_fields(FormFields.from_pairs(SMS))

    assert (message.profile_name, message.whatsapp_id) == ("", "")
    assert (message.location, message.button, message.referral) == (None, None, None)
    assert (message.replied_to, message.replied_to_sender) == (None, None)
    assert (message.forwarded, message.frequently_forwarded) == (False, False)


def test_a_shared_location_has_its_coordinates_as_numbers_its_address_and_label():
    message = whatsapp(
        Body="",
        Latitude="37.7955",
        Longitude="-122.3937",
        Address="1 Ferry Building, San Francisco, CA 94111",
        Label="Ferry Building",
    )

    assert message.location == Location(
        37.7955, -122.3937, "1 Ferry Building, San Francisco, CA 94111", "Ferry Building"
    )


def test_a_location_without_address_or_label_has_empty_ones():
    assert whatsapp(Latitude="-33.8688", Longitude="151.2093").location == Location(
        -33.8688, 151.2093
    )


def test_a_text_has_no_location():
    assert whatsapp().location is None


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ("37.7955", ""),
        ("", "-122.3937"),
        ("north", "-122.3937"),
        ("nan", "-122.3937"),
        ("37.7955", "inf"),
        ("1e1", "-122.3937"),
        ("37,7955", "-122,3937"),
        (" 37.7955", "-122.3937"),
        ("91", "0"),
        ("0", "-180.5"),
    ],
)
def test_a_location_not_in_twilios_form_is_absent_and_the_message_still_answered(
    latitude, longitude
):
    message = whatsapp(Latitude=latitude, Longitude=longitude, Label="Home")

    assert message.location is None
    assert (message.body, message.fields["Latitude"]) == ("Hi there", latitude)


def test_a_pressed_button_has_its_text_and_payload():
    message = whatsapp(Body="Yes, book it", ButtonText="Yes, book it", ButtonPayload="CONFIRM")

    assert message.button == Button(text="Yes, book it", payload="CONFIRM")


def test_a_reply_knows_the_message_it_replies_to_and_its_sender():
    message = whatsapp(
        OriginalRepliedMessageSid="SMfedcba9876543210fedcba9876543210",
        OriginalRepliedMessageSender="whatsapp:+14155238886",
    )

    assert (message.replied_to, message.replied_to_sender) == (
        "SMfedcba9876543210fedcba9876543210",
        "whatsapp:+14155238886",
    )


def test_a_message_from_an_ad_has_the_ads_referral():
    assert whatsapp(**AD_REFERRAL).referral == Referral(
        source_id="120208765432100123",
        source_type="ad",
        source_url="https://fb.me/3xAmPl3",
        headline="Quests for the whole family",
        body="Book a quest this weekend",
        media_id="1054321987654321",
        media_content_type="image/jpeg",
        media_url="https://scontent.xx.fbcdn.net/v/quest.jpg",
        num_media=1,
        ctwa_clid="ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLM",
    )


def test_referral_num_media_0_alone_is_no_referral():
    assert dict(WHATSAPP)["ReferralNumMedia"] == "0"
    assert whatsapp().referral is None


def test_a_referral_media_count_not_a_number_is_zero():
    referral = whatsapp(**{**AD_REFERRAL, "ReferralNumMedia": "one"}).referral

    assert referral is not None
    assert referral.num_media == 0


@pytest.mark.parametrize(("value", "flag"), [("true", True), ("True", True), ("false", False)])
def test_forwarded_flags_are_booleans(value, flag):
    message = whatsapp(Forwarded=value, FrequentlyForwarded=value)

    assert (message.forwarded, message.frequently_forwarded) == (flag, flag)
