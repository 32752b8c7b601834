"""The incoming message as your reply code sees it: typed, with nothing about HTTP in it.

A message reaches reply code only with the fields Twilio always sends, each once and in Twilio's
form: a re-split copy of a signed request (see `signature`) can keep its signature, but not
turn a message id into something else, or move the sender's number into the text.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sms_webhook.form import FormFields

MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
ADDRESS = re.compile(
    r"(?:[a-z]+:)?\+[1-9][0-9]{1,14}"  # a phone number (E.164), on a channel or not: whatsapp:+1…
    r"|[0-9]{3,8}"  # a short code
    r"|messenger:[0-9]{1,32}"  # a Messenger user or page id
    r"|rcs:[0-9A-Za-z_-]{1,64}"  # an RCS agent
)
"""The forms a sender's or your own address takes. Nothing else: a re-split field that absorbed the
next one (`whatsapp:+14155238886WaId1415…`) does not pass."""


class MalformedMessageError(ValueError):
    """A field Twilio always sends is missing, repeated, or not in Twilio's form."""


def required_field(fields: FormFields, name: str, form: re.Pattern[str]) -> str:
    """The one value of a field Twilio always sends once, in that form."""
    values = fields.get(name, [])
    if len(values) != 1 or not form.fullmatch(values[0]):
        raise MalformedMessageError(f"{name} is missing, repeated or not in Twilio's form")
    return values[0]


@dataclass(frozen=True)
class Media:
    """One picture, video or file attached to an MMS, hosted by Twilio."""

    url: str
    content_type: str


@dataclass(frozen=True)
class IncomingMessage:
    """A text (or MMS) that someone sent to your Twilio number."""

    sid: str
    """Twilio's id of the message (`MessageSid`), e.g. "SM0123..."."""
    account_sid: str
    """The Twilio account the message was sent to (`AccountSid`), "AC0123..."."""
    from_number: str
    """Who sent it (`From`), in E.164 form, e.g. "+14155551234"."""
    to_number: str
    """Your Twilio number it was sent to (`To`)."""
    body: str
    """The text, up to 1,600 characters; "" for a picture without words."""
    media: tuple[Media, ...] = ()
    """The MMS attachments, in Twilio's order."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Every field Twilio sent (first value of each), e.g. `FromCity`, `FromCountry`."""

    @classmethod
    def from_fields(cls, fields: FormFields) -> "IncomingMessage":
        """The message in the fields; `MalformedMessageError` when they are not Twilio's."""
        return cls(
            sid=required_field(fields, "MessageSid", MESSAGE_SID),
            account_sid=required_field(fields, "AccountSid", ACCOUNT_SID),
            from_number=required_field(fields, "From", ADDRESS),
            to_number=required_field(fields, "To", ADDRESS),
            body=fields.first("Body"),
            media=_media(fields),
            fields={name: values[0] for name, values in fields.items()},
        )


def _media(fields: FormFields) -> tuple[Media, ...]:
    """Attachments as `MediaUrl0`, `MediaUrl1`... list them (`NumMedia` need not agree)."""
    media: list[Media] = []
    while url := fields.first(f"MediaUrl{len(media)}"):
        media.append(Media(url, fields.first(f"MediaContentType{len(media)}")))
    return tuple(media)
