"""The incoming message as your reply code sees it: typed, with nothing about HTTP in it.

A message reaches reply code only with the fields Twilio always sends, each once and in Twilio's
form: a re-split copy of a signed request (see `signature`) can keep its signature, but not
turn a message id into something else, or move the sender's number into the text.

Every channel that Twilio delivers to the same webhook (SMS and MMS, WhatsApp, Messenger, RCS)
arrives as the same message: the channel is the addresses' prefix (`whatsapp:+1415…`), and
WhatsApp's own fields are optional attributes, absent (`None`, `""`, False) on other channels.
Those fields are content, like the text: one that is not in the form Twilio gives it (a latitude
that is no number) is treated as absent rather than costing the message its answer; its raw value
stays in `fields`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

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


class Location(NamedTuple):
    """A place the sender shared on WhatsApp."""

    latitude: float
    """`Latitude`, in degrees, -90 to 90."""
    longitude: float
    """`Longitude`, in degrees, -180 to 180."""
    address: str = ""
    """`Address`, when the place has one: "1 Ferry Building, San Francisco, CA 94111"."""
    label: str = ""
    """`Label`, the place's name, when it has one: "Ferry Building"."""


class Button(NamedTuple):
    """A quick-reply button the sender pressed on WhatsApp. Its text usually arrives as the
    body too; route on the payload (`Router.button`), which you chose and no one can type."""

    text: str
    """`ButtonText`: what the button said, as the sender saw it."""
    payload: str
    """`ButtonPayload`: the id you gave the button in your template, whatever its text."""


class Referral(NamedTuple):
    """The click-to-WhatsApp ad (or post) the sender tapped to start this conversation."""

    source_id: str = ""
    """`ReferralSourceId`: the ad's or post's id."""
    source_type: str = ""
    """`ReferralSourceType`: "ad" or "post"."""
    source_url: str = ""
    """`ReferralSourceUrl`: where the ad or post is."""
    headline: str = ""
    """`ReferralHeadline`: the ad's headline."""
    body: str = ""
    """`ReferralBody`: the ad's text."""
    media_id: str = ""
    """`ReferralMediaId`: the id of the ad's picture or video."""
    media_content_type: str = ""
    """`ReferralMediaContentType`: its type, e.g. "image/jpeg"."""
    media_url: str = ""
    """`ReferralMediaUrl`: where it is."""
    num_media: int = 0
    """`ReferralNumMedia`: how many media the ad had."""
    ctwa_clid: str = ""
    """`ReferralCtwaClid`: the click's id, for reporting conversions back to Meta."""


@dataclass(frozen=True)
class IncomingMessage:
    """A text (or MMS, or WhatsApp message...) that someone sent to your Twilio number."""

    sid: str
    """Twilio's id of the message (`MessageSid`), e.g. "SM0123..."."""
    account_sid: str
    """The Twilio account the message was sent to (`AccountSid`), "AC0123..."."""
    from_number: str
    """Who sent it (`From`), in E.164 form, e.g. "+14155551234"; on another channel with its
    prefix, e.g. "whatsapp:+14155551234"."""
    to_number: str
    """Your Twilio number it was sent to (`To`), with the same prefix."""
    body: str
    """The text, up to 1,600 characters; "" for a picture without words."""
    media: tuple[Media, ...] = ()
    """The MMS attachments, in Twilio's order."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Every field Twilio sent (first value of each), e.g. `FromCity`, `FromCountry`."""

    profile_name: str = ""
    """WhatsApp: the sender's profile name (`ProfileName`), as they set it; "" elsewhere."""
    whatsapp_id: str = ""
    """WhatsApp: the sender's WhatsApp id (`WaId`), their number without "+": "14155551234"."""
    location: Location | None = None
    """WhatsApp: the place the sender shared (`Latitude`, `Longitude`, `Address`, `Label`)."""
    button: Button | None = None
    """WhatsApp: the quick-reply button pressed (`ButtonText`, `ButtonPayload`)."""
    replied_to: str | None = None
    """WhatsApp: the id of the message this one replies to (`OriginalRepliedMessageSid`)."""
    replied_to_sender: str | None = None
    """WhatsApp: the address of whoever sent that message (`OriginalRepliedMessageSender`)."""
    referral: Referral | None = None
    """WhatsApp: the ad the sender tapped to write to you (the `Referral...` fields)."""
    forwarded: bool = False
    """WhatsApp: the sender forwarded this message to you (`Forwarded`)."""
    frequently_forwarded: bool = False
    """WhatsApp: it has been forwarded many times before (`FrequentlyForwarded`)."""

    @property
    def channel(self) -> str:
        """How it came: "sms" (SMS and MMS), "whatsapp", "messenger", "rcs"..., the prefix of
        the sender's address (else of yours: `whatsapp:+1…`); no prefix is "sms"."""
        return _prefix(self.from_number) or _prefix(self.to_number) or "sms"

    @classmethod
    def from_fields(cls, fields: FormFields) -> "IncomingMessage":
        """The message in the fields; `MalformedMessageError` when they are not Twilio's."""
        first = {name: values[0] for name, values in fields.items()}
        return cls(
            sid=required_field(fields, "MessageSid", MESSAGE_SID),
            account_sid=required_field(fields, "AccountSid", ACCOUNT_SID),
            from_number=required_field(fields, "From", ADDRESS),
            to_number=required_field(fields, "To", ADDRESS),
            body=first.get("Body", ""),
            media=_media(first),
            fields=first,
            profile_name=first.get("ProfileName", ""),
            whatsapp_id=first.get("WaId", ""),
            location=_location(first),
            button=_button(first),
            replied_to=first.get("OriginalRepliedMessageSid") or None,
            replied_to_sender=first.get("OriginalRepliedMessageSender") or None,
            referral=_referral(first),
            forwarded=_flag(first, "Forwarded"),
            frequently_forwarded=_flag(first, "FrequentlyForwarded"),
        )


First = Mapping[str, str]
"""Each field Twilio sent, with its first value: what a message's attributes are read from."""


def _media(first: First) -> tuple[Media, ...]:
    """Attachments as `MediaUrl0`, `MediaUrl1`... list them (`NumMedia` need not agree)."""
    media: list[Media] = []
    while url := first.get(f"MediaUrl{len(media)}"):
        media.append(Media(url, first.get(f"MediaContentType{len(media)}", "")))
    return tuple(media)


def _prefix(address: str) -> str:
    """An address's channel prefix, "" for a plain number or short code."""
    return address.partition(":")[0] if ":" in address else ""


COORDINATE = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,20})?")
"""A latitude or longitude as Twilio writes one: "37.7955", "-122.3937" (no exponent, no "nan")."""
_LATITUDE_RANGE = 90
_LONGITUDE_RANGE = 180


def coordinates(latitude: str, longitude: str) -> tuple[float, float] | None:
    """A place's latitude and longitude as numbers, when both are written as Twilio writes them
    and lie on the globe; else None."""
    north = _coordinate(latitude, _LATITUDE_RANGE)
    east = _coordinate(longitude, _LONGITUDE_RANGE)
    return None if north is None or east is None else (north, east)


def _coordinate(text: str, limit: int) -> float | None:
    if not COORDINATE.fullmatch(text):
        return None
    value = float(text)
    return value if -limit <= value <= limit else None


def _location(first: First) -> Location | None:
    place = coordinates(first.get("Latitude", ""), first.get("Longitude", ""))
    if place is None:
        return None
    return Location(*place, first.get("Address", ""), first.get("Label", ""))


def _button(first: First) -> Button | None:
    text, payload = first.get("ButtonText", ""), first.get("ButtonPayload", "")
    return Button(text, payload) if text or payload else None


def _referral(first: First) -> Referral | None:
    """The ad, when any of its fields has a value. `ReferralNumMedia` alone does not count:
    Twilio sends `ReferralNumMedia=0` with messages that came from no ad."""
    if _REFERRAL_FIELDS.isdisjoint(first):  # most messages: no ad, and none of its fields
        return None
    texts = {attribute: first.get(name, "") for attribute, name in _REFERRAL_TEXTS.items()}
    if not any(texts.values()):
        return None
    count = first.get("ReferralNumMedia", "")
    return Referral(**texts, num_media=int(count) if _COUNT.fullmatch(count) else 0)


_REFERRAL_TEXTS = {
    "source_id": "ReferralSourceId",
    "source_type": "ReferralSourceType",
    "source_url": "ReferralSourceUrl",
    "headline": "ReferralHeadline",
    "body": "ReferralBody",
    "media_id": "ReferralMediaId",
    "media_content_type": "ReferralMediaContentType",
    "media_url": "ReferralMediaUrl",
    "ctwa_clid": "ReferralCtwaClid",
}
"""Each text attribute of `Referral` and the field Twilio sends it in."""
_REFERRAL_FIELDS = frozenset(_REFERRAL_TEXTS.values())
_COUNT = re.compile(r"[0-9]{1,4}")


def _flag(first: First, name: str) -> bool:
    """A WhatsApp flag: Twilio sends "true" when it is set."""
    return first.get(name, "").lower() == "true"
