"""The TwiML document that answers Twilio: what to send back, built with twilio's own classes.

Twilio rejects a message body over 1,600 characters and a TwiML document over 64 kB, and then
sends nothing at all. So a longer text is split into several messages, at a space where possible,
and messages that would push the document past 64 kB are left out (with a warning in the log).
Characters that XML 1.0 cannot hold (control characters, U+FFFE, U+FFFF, unpaired surrogates)
would make the whole document unreadable to Twilio: they are dropped, with a warning.
"""

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple
from xml.etree.ElementTree import Element, fromstring

from twilio.twiml.messaging_response import Message, MessagingResponse

from sms_webhook.segments import NOT_SMS, Segments, on_sms, segments, total
from sms_webhook.telemetry import logger


class Text(NamedTuple):
    """A message with pictures or files (an MMS, or media on WhatsApp): its text, and the public
    URLs Twilio fetches what it carries from, at most 10.

        return Text("Your ticket:", media=["https://example.com/tickets/42.png"])
    """

    body: str
    media: Sequence[str] = ()


Reply = str | Text | Iterable[str | Text] | None
"""What reply code returns: one text, several texts (one message each), or None for no reply."""

MAX_MEDIA = 10
"""Media in one message, as Twilio allows."""

MAX_MESSAGE_LENGTH = 1600
"""Characters in one message, counted as Twilio does (UTF-16 units: an emoji counts two)."""

MAX_MESSAGES = 10
"""Messages a later reply or a text sent first may fill: as many as Twilio takes in one TwiML
answer (its error 14109). A runaway text (a loop, a model that does not stop) costs at most
these."""

MAX_TEXT_LENGTH = MAX_MESSAGES * MAX_MESSAGE_LENGTH
"""Characters `MAX_MESSAGES` messages carry at the most (16,000): a text longer never fits."""

MAX_TWIML_SIZE = 64_000
"""Bytes of TwiML Twilio accepts (64 kB)."""


def messaging_response(
    reply: Reply, status_callback: str | None = None, *, smart_encoding: bool = False
) -> str:
    """TwiML for the reply; `<Response />` when there is nothing to send.

    Empty texts are left out: Twilio rejects a `<Message>` with neither body nor media. With
    `status_callback`, each message asks Twilio to report its delivery there (its `action`,
    which twilio's classes document as replacing the deprecated `statusCallback`). With
    `smart_encoding`, texts have their look-alike characters replaced where that keeps them GSM-7
    (`sms_webhook/smart_encoding.py`).
    """
    return _document(reply_texts(reply), status_callback, smart_encoding)


def reply_texts(reply: Reply) -> tuple[Text, ...]:
    """The texts of a reply, one per message, whichever way the handler returned them; each
    with its media as a tuple (a reply is then hashable: its document is built once)."""
    texts = (reply,) if isinstance(reply, str | Text) else tuple(reply or ())
    return tuple(_text(text) for text in texts)


def _text(text: str | Text) -> Text:
    if isinstance(text, str):
        return Text(text)
    media = (text.media,) if isinstance(text.media, str) else tuple(text.media)  # one URL
    if len(media) > MAX_MEDIA:  # Twilio would refuse the whole reply
        logger.warning("reply media cut to 10", extra={"media_left_out": len(media) - MAX_MEDIA})
    return Text(text.body, media[:MAX_MEDIA])


def messages_of(texts: Iterable[Text]) -> list[Text]:
    """The messages that send these texts: each fits Twilio's limit, a text's media go with its
    last, and a text with neither body nor media is none."""
    return [piece for text in texts if text.body or text.media for piece in _messages(text)]


def fits_in_messages(body: str) -> bool:
    """Whether the text fits in `MAX_MESSAGES` messages as it is cut (at spaces, so a text of
    16,000 characters may need more)."""
    return characters(body) <= MAX_TEXT_LENGTH and len(split_message(body)) <= MAX_MESSAGES


def _messages(text: Text) -> list[Text]:
    pieces = split_message(text.body) or [""]
    return [*map(Text, pieces[:-1]), Text(pieces[-1], text.media)]


@lru_cache(maxsize=256)
def _document(texts: tuple[Text, ...], status_callback: str | None, smart_encoding: bool) -> str:
    """Built once per distinct reply: an auto-reply is the same document every time. So each
    warning below is logged once per container and distinct reply, not once per message."""
    from sms_webhook.smart_encoding import smart_encoded  # its table: loaded when it is on

    readable = []
    for text in texts:
        body = _xml_text(text.body)  # as Twilio gets it, before its encoding is decided
        body = smart_encoded(body) if smart_encoding else body
        readable.append(Text(body, tuple(map(_xml_text, text.media))))
    pieces = messages_of(readable)
    response = MessagingResponse()
    size = len(str(response).encode())
    delivery_report = {"action": status_callback, "method": "POST"} if status_callback else {}
    for number, piece in enumerate(pieces):
        message = _message(piece, delivery_report)
        size += len(message.to_xml(xml_declaration=False).encode())
        if size > MAX_TWIML_SIZE:
            logger.warning(
                "reply cut short: TwiML over 64 kB",
                extra={"messages_sent": number, "messages_left_out": len(pieces) - number},
            )
            break
        response.append(message)
    return str(response)


def _message(text: Text, delivery_report: dict[str, str]) -> Message:
    """A `<Message>`: its text inside it, or, with media, in a `<Body>` beside each `<Media>`
    (TwiML takes one form or the other)."""
    if not text.media:
        return Message(text.body, **delivery_report)
    message = Message(**delivery_report)
    if text.body:
        message.body(text.body)
    for url in text.media:
        message.media(url)
    return message


def message_count(document: str) -> int:
    """How many messages a TwiML answer this module built will send."""
    return document.count("<Message")


def sent_segments(document: str, to: str) -> Segments:
    """The SMS segments the messages of a TwiML answer are billed as, sent to `to`, summed
    (`sms_webhook/segments.py`): counted on the texts as Twilio reads them in the document."""
    return _sms_segments(document) if on_sms(to) else NOT_SMS


@lru_cache(maxsize=256)
def _sms_segments(document: str) -> Segments:
    """Counted once per distinct answer, whoever it goes to (an auto-reply is the same document
    for every sender); a new one is read from its XML, 13 to 25 µs."""
    return total(NOT_SMS if text.media else segments(text.body) for text in _sent_texts(document))


@lru_cache(maxsize=256)
def _sent_texts(document: str) -> tuple[Text, ...]:
    """Read once per distinct answer (an auto-reply is the same document for every sender)."""
    return tuple(texts_in(fromstring(document)))  # noqa: S314 - a document this module built


def texts_in(response: Element) -> list[Text]:
    """The messages of a TwiML `<Response>`, as Twilio reads them: a message's text is written
    inside `<Message>` or in its `<Body>`, its media in its `<Media>`."""
    return [
        Text(
            (message.text or "") + "".join(body.text or "" for body in message.iter("Body")),
            tuple(media.text or "" for media in message.iter("Media")),
        )
        for message in response.iter("Message")
    ]


def split_message(text: str) -> list[str]:
    """The text as messages that each fit Twilio's limit, cut at a space where possible."""
    pieces = []
    while characters(text) > MAX_MESSAGE_LENGTH:
        limit = _fitting_prefix(text)
        space = text.rfind(" ", limit // 2, limit + 1)
        cut = space if space > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def characters(text: str) -> int:
    """The text's length as Twilio counts it: UTF-16 units, an emoji two (half of one, an
    unpaired surrogate, one)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_LAST_SINGLE_UNIT = 0xFFFF
"""Characters past it take two UTF-16 units (a surrogate pair)."""


def _fitting_prefix(text: str) -> int:
    """How many characters of the text fit in one message."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > _LAST_SINGLE_UNIT else 1
        if units > MAX_MESSAGE_LENGTH:
            return index
    return len(text)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot hold. Surrogates are only ever unpaired in a Python str."""


def _xml_text(text: str) -> str:
    """The text without the characters XML 1.0 cannot hold."""
    kept, dropped = _NOT_XML.subn("", text)
    if dropped:
        logger.warning("reply characters dropped: not allowed in XML", extra={"dropped": dropped})
    return kept
