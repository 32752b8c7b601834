"""Who a text sent first goes out as: while a handler answers a message, the texts it sends
(`send_text`) go out like its reply, from the account and the number that message was sent to,
with delivery reports where its reply's go. A script calling `send_text` has to be told instead
(the stack's `SendFrom` and `TwilioAccountSid`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from sms_webhook.message import IncomingMessage


class Origin(NamedTuple):
    """The message being answered, as the texts its handler sends first go out."""

    account_sid: str
    sender: str
    status_callback: str | None


_current: ContextVar[Origin | None] = ContextVar("origin", default=None)


@contextmanager
def replying_to(message: IncomingMessage, status_callback: str | None) -> Iterator[None]:
    """While a handler answers `message` (in the webhook or the worker)."""
    token = _current.set(Origin(message.account_sid, reply_sender(message), status_callback))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Origin | None:
    """The message being answered, if any."""
    return _current.get()


def reply_sender(message: IncomingMessage) -> str:
    """Who answers a message: the Messaging Service it came through, else the number texted."""
    return message.fields.get("MessagingServiceSid") or message.to_number
