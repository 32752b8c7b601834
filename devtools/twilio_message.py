"""Incoming messages as Twilio sends them: the same fields, in the same order, signed."""

import hashlib
import secrets
from urllib.parse import quote_plus, urlencode

from twilio.request_validator import RequestValidator

from sms_webhook.form import FormFields

ACCOUNT_SID = "AC" + "0" * 32
TWILIO_NUMBER = "+15005550006"
SENDER = "+14155551234"


def message_fields(
    body: str,
    *,
    from_number: str = SENDER,
    to_number: str = TWILIO_NUMBER,
    media: list[tuple[str, str]] = (),
    unique: bool = False,
) -> list[tuple[str, str]]:
    """The fields of Twilio's incoming-message request; `media` holds (URL, content type) pairs.

    The message id is derived from the content, so a regenerated sample does not change; with
    `unique` it is new each time, as for a new text (the function may answer each id only once).
    """
    kind = "MM" if media else "SM"
    if unique:
        sid = kind + secrets.token_hex(16)
    else:
        digest = hashlib.sha256(repr((body, from_number, to_number, media)).encode()).hexdigest()
        sid = kind + digest[:32]
    media_fields = [
        (f"{name}{index}", value)
        for index, (url, content_type) in enumerate(media)
        for name, value in (("MediaContentType", content_type), ("MediaUrl", url))
    ]
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
        *media_fields,
        ("AccountSid", ACCOUNT_SID),
        ("From", from_number),
        ("ApiVersion", "2010-04-01"),
    ]


def form_encode(fields: list[tuple[str, str]]) -> str:
    """Form encoding as Twilio writes it: spaces as `+`."""
    return urlencode(fields, quote_via=quote_plus)


def twilio_signature(url: str, post_fields: list[tuple[str, str]], token: str) -> str:
    """The X-Twilio-Signature for a request to `url` (with its query, for a GET) and POST fields."""
    return RequestValidator(token).compute_signature(url, FormFields.from_pairs(post_fields))
