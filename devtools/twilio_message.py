"""Incoming messages as Twilio sends them: the same fields, in the same order, signed."""

import hashlib
import secrets
from collections.abc import Sequence
from urllib.parse import quote_plus, urlencode

from twilio.request_validator import RequestValidator

from sms_webhook.form import FormFields
from sms_webhook.message import Button, Location

ACCOUNT_SID = "AC" + "0" * 32
TWILIO_NUMBER = "+15005550006"
SENDER = "+14155551234"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
"""Twilio's WhatsApp sandbox number."""
WHATSAPP_SENDER = f"whatsapp:{SENDER}"
PROFILE_NAME = "Ada Lovelace"


def message_fields(
    body: str,
    *,
    from_number: str = SENDER,
    to_number: str = TWILIO_NUMBER,
    media: Sequence[tuple[str, str]] = (),
    sid: str | None = None,
    account_sid: str = ACCOUNT_SID,
) -> list[tuple[str, str]]:
    """The fields of Twilio's incoming-message request; `media` holds (URL, content type) pairs.

    The message id is `sid` when given (`new_message_sid()` for a new text: the function answers
    each id only once); else it is derived from the content, so a regenerated sample does not
    change.
    """
    if sid is None:
        sid = _content_sid((body, from_number, to_number, media), media)
    return [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))),
        ("ToCity", ""),
        ("FromZip", "94105"),
        ("SmsSid", sid),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", to_number),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        *_media_fields(media),
        ("AccountSid", account_sid),
        ("From", from_number),
        ("ApiVersion", "2010-04-01"),
    ]


def whatsapp_fields(
    body: str,
    *,
    from_number: str = WHATSAPP_SENDER,
    to_number: str = WHATSAPP_NUMBER,
    profile_name: str = PROFILE_NAME,
    media: Sequence[tuple[str, str]] = (),
    location: Location | None = None,
    button: Button | None = None,
    sid: str | None = None,
) -> list[tuple[str, str]]:
    """The fields of Twilio's request for a WhatsApp message: addresses with their `whatsapp:`
    prefix, the sender's profile name and WhatsApp id, `ReferralNumMedia=0` as sent with a
    message that came from no ad, no place fields (`FromCity`...), and a shared `location`'s or a
    pressed `button`'s fields when given (Twilio sends a pressed button's text as the body too:
    pass it as `body`). The message id is `sid`, else derived from the content.
    """
    if sid is None:
        content = (body, from_number, to_number, profile_name, media, location, button)
        sid = _content_sid(content, media)
    return [
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))),
        ("ProfileName", profile_name),
        ("SmsSid", sid),
        ("WaId", from_number.removeprefix("whatsapp:").removeprefix("+")),
        ("SmsStatus", "received"),
        *_location_fields(location),
        ("Body", body),
        *_button_fields(button),
        ("To", to_number),
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from_number),
        *_media_fields(media),
        ("ApiVersion", "2010-04-01"),
    ]


def _location_fields(location: Location | None) -> list[tuple[str, str]]:
    if location is None:
        return []
    return [
        ("Latitude", str(location.latitude)),
        ("Longitude", str(location.longitude)),
        ("Address", location.address),
        ("Label", location.label),
    ]


def _button_fields(button: Button | None) -> list[tuple[str, str]]:
    if button is None:
        return []
    return [("ButtonText", button.text), ("ButtonPayload", button.payload)]


def _content_sid(content: object, media: Sequence[tuple[str, str]]) -> str:
    """A message id derived from the message's content: a regenerated sample keeps its id."""
    digest = hashlib.sha256(repr(content).encode()).hexdigest()
    return _sid_kind(media) + digest[:32]


def _media_fields(media: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (f"{name}{index}", value)
        for index, (url, content_type) in enumerate(media)
        for name, value in (("MediaContentType", content_type), ("MediaUrl", url))
    ]


def new_message_sid(media: Sequence[object] = ()) -> str:
    """A MessageSid never used before, as Twilio gives each new text (MM for one with media)."""
    return _sid_kind(media) + secrets.token_hex(16)


def _sid_kind(media: Sequence[object]) -> str:
    return "MM" if media else "SM"


def form_encode(fields: list[tuple[str, str]]) -> str:
    """Form encoding as Twilio writes it: spaces as `+`."""
    return urlencode(fields, quote_via=quote_plus)


def query_and_body(method: str, fields: list[tuple[str, str]]) -> tuple[str, bytes]:
    """The query string and the body of Twilio's request with these fields: a GET carries them
    in its query string, a POST in its body, form-encoded."""
    form = form_encode(fields)
    return (form, b"") if method == "GET" else ("", form.encode())


def twilio_signature(
    url: str, post_fields: list[tuple[str, str]], token: str, algorithm: str = "HMAC_SHA1"
) -> str:
    """The X-Twilio-Signature for a request to `url` (with its query, for a GET) and POST fields:
    made with the auth token (HMAC_SHA1), or with a SharedKey's secret (HMAC_SHA256)."""
    validator = RequestValidator(token)
    signature: str = validator.compute_signature(url, FormFields.from_pairs(post_fields), algorithm)
    return signature


def largest_message_fields() -> list[tuple[str, str]]:
    """The largest incoming-message request Twilio sends, as far as its documentation tells.

    Every field at once: a 1,600-character text (Twilio's limit, counted as Twilio counts, in
    UTF-16 units: an emoji counts two) of 3-byte characters, the longest to form-encode per
    character; ten media items with long URLs and content types; WhatsApp's profile name (25
    characters, its limit), WaId, forwarding flags, a pressed button (20-character text, its
    limit), a shared location, the message replied to, a click-to-WhatsApp ad referral, the
    opt-out type and the results of Marketplace Add-ons. Free-text fields whose limit Twilio does
    not document (button payload, address, label, ad body and headline) hold 256 such characters
    each.
    """
    widest = "語"
    account = "AC" + "a" * 32
    message = "MM" + "b" * 32
    media_base = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{message}/Media"
    media = [
        (
            f"{media_base}/ME{index:032d}",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        )
        for index in range(10)
    ]
    fields = message_fields(
        widest * 1600,
        from_number="whatsapp:+491701234567",
        to_number="whatsapp:+14155238886",
        media=media,
    )
    long_text = widest * 256
    return [
        *fields,
        ("MessagingServiceSid", "MG" + "c" * 32),
        ("ProfileName", widest * 25),
        ("WaId", "491701234567"),
        ("Forwarded", "true"),
        ("FrequentlyForwarded", "true"),
        ("ButtonText", widest * 20),
        ("ButtonPayload", long_text),
        ("Latitude", "-33.86881890869141"),
        ("Longitude", "151.20929718017578"),
        ("Address", long_text),
        ("Label", long_text),
        ("OriginalRepliedMessageSender", "whatsapp:+14155238886"),
        ("OriginalRepliedMessageSid", "SM" + "d" * 32),
        ("ReferralBody", long_text),
        ("ReferralHeadline", long_text),
        ("ReferralSourceId", "1" * 20),
        ("ReferralSourceType", "ad"),
        ("ReferralSourceUrl", "https://fb.me/" + "e" * 200),
        ("ReferralMediaId", "2" * 20),
        ("ReferralMediaContentType", "image/jpeg"),
        ("ReferralMediaUrl", "https://scontent.xx.fbcdn.net/v/" + "f" * 400),
        ("ReferralNumMedia", "1"),
        ("ReferralCtwaClid", "ARA" + "g" * 200),
        ("OptOutType", "HELP"),
        ("AddOns", _ADD_ONS_RESULTS),
    ]


_ADD_ONS_RESULTS = (
    '{"status":"successful","message":null,"code":null,"results":{"ibm_watson_sentiment":'
    '{"request_sid":"XR' + "e" * 32 + '","status":"successful","message":null,"code":null,'
    '"result":{"docSentiment":{"type":"positive","score":"0.823"},"language":"english",'
    '"status":"OK","usage":"By accessing AlchemyAPI or using information generated by '
    'AlchemyAPI, you are agreeing to be bound by the AlchemyAPI Terms of Use"}}}}'
) * 4
"""The results of Marketplace Add-ons, as Twilio forwards them (a JSON text): here four times
what one sentiment Add-on returns, about 1.5 KiB."""
