"""The TwiML document that answers Twilio: what to send back, built with twilio's own classes.

Twilio rejects a message body over 1,600 characters and a TwiML document over 64 kB, and then
sends nothing at all. So a longer text is split into several messages, at a space where possible,
and messages that would push the document past 64 kB are left out (with a warning in the log).
Characters that XML 1.0 cannot hold (control characters, U+FFFE, U+FFFF, unpaired surrogates)
would make the whole document unreadable to Twilio: they are dropped, with a warning.
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from twilio.twiml.messaging_response import Message, MessagingResponse

from sms_webhook.telemetry import logger

Reply = str | Iterable[str] | None
"""What reply code returns: one text, several texts (one message each), or None for no reply."""

MAX_MESSAGE_LENGTH = 1600
"""Characters in one message, counted as Twilio does (UTF-16 units: an emoji counts two)."""

MAX_TWIML_SIZE = 64_000
"""Bytes of TwiML Twilio accepts (64 kB)."""


def messaging_response(reply: Reply, status_callback: str | None = None) -> str:
    """TwiML for the reply; `<Response />` when there is nothing to send.

    Empty texts are left out: Twilio rejects a `<Message>` with no body. With `status_callback`,
    each message asks Twilio to report its delivery there (its `action`, which twilio's classes
    document as replacing the deprecated `statusCallback`).
    """
    return _document(reply_texts(reply), status_callback)


def reply_texts(reply: Reply) -> tuple[str, ...]:
    """The texts of a reply, one per message, whichever way the handler returned them."""
    return (reply,) if isinstance(reply, str) else tuple(reply or ())


@lru_cache(maxsize=256)
def _document(texts: tuple[str, ...], status_callback: str | None) -> str:
    """Built once per distinct reply: an auto-reply is the same document every time. So each
    warning below is logged once per container and distinct reply, not once per message."""
    pieces = [piece for text in texts if text for piece in split_message(_xml_text(text))]
    response = MessagingResponse()
    size = len(str(response).encode())
    delivery_report = {"action": status_callback, "method": "POST"} if status_callback else {}
    for number, piece in enumerate(pieces):
        message = Message(piece, **delivery_report)
        size += len(message.to_xml(xml_declaration=False).encode())
        if size > MAX_TWIML_SIZE:
            logger.warning(
                "reply cut short: TwiML over 64 kB",
                extra={"messages_sent": number, "messages_left_out": len(pieces) - number},
            )
            break
        response.append(message)
    return str(response)


def message_count(document: str) -> int:
    """How many messages a TwiML answer this module built will send."""
    return document.count("<Message")


def split_message(text: str) -> list[str]:
    """The text as messages that each fit Twilio's limit, cut at a space where possible."""
    pieces = []
    while _length(text) > MAX_MESSAGE_LENGTH:
        limit = _fitting_prefix(text)
        space = text.rfind(" ", limit // 2, limit + 1)
        cut = space if space > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


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
