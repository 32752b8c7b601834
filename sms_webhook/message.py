"""The incoming message as your reply code sees it: typed, with nothing about HTTP in it."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sms_webhook.form import FormFields


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
        return cls(
            sid=fields.first("MessageSid"),
            from_number=fields.first("From"),
            to_number=fields.first("To"),
            body=fields.first("Body"),
            media=_media(fields),
            fields={name: values[0] for name, values in fields.items()},
        )


def _media(fields: FormFields) -> tuple[Media, ...]:
    """Attachments as `MediaUrl0`, `MediaUrl1`... list them (`NumMedia` need not agree)."""
    media = []
    while url := fields.first(f"MediaUrl{len(media)}"):
        media.append(Media(url, fields.first(f"MediaContentType{len(media)}")))
    return tuple(media)


def masked_number(number: str) -> str:
    """A phone number fit for a log line: `+14155551234` becomes `+1415***1234`.

    A channel prefix such as `whatsapp:` is kept; anything too short to mask safely becomes `***`.
    """
    channel, colon, address = number.rpartition(":")
    if len(address) < 10:
        return f"{channel}{colon}***"
    return f"{channel}{colon}{address[:5]}***{address[-4:]}"
