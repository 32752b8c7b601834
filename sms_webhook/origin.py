"""Who a text sent first goes out as: while a handler answers a message, the texts it sends
(`send_text`) go out like its reply, from the account and the number that message was sent to,
with delivery reports where its reply's go. A script calling `send_text` has to be told instead
(the stack's `SendFrom` and `TwilioAccountSid`). And which timers a handler set while it answered:
a conversation keeps itself until those that will visit it have gone off.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from sms_webhook.config import ConfigurationError, send_from, sending_account_sid
from sms_webhook.jobs import Job
from sms_webhook.message import IncomingMessage


class Origin(NamedTuple):
    """The message being answered, as the texts its handler sends first go out."""

    account_sid: str
    sender: str
    status_callback: str | None
    number: str = ""
    """The number the message was sent to: the conversation's, beside the sender's address."""
    person: str = ""
    """Who sent the message: on WhatsApp their window is open while it is answered, whatever the
    senders' table could note of it (`recipient_rules`)."""


_current: ContextVar[Origin | None] = ContextVar("origin", default=None)


@contextmanager
def replying_to(message: IncomingMessage, status_callback: str | None) -> Iterator[None]:
    """While a handler answers `message` (in the webhook or the worker)."""
    sender = reply_sender(message)
    origin = Origin(
        message.account_sid, sender, status_callback, message.to_number, message.from_number
    )
    with answering(origin):
        yield


@contextmanager
def answering(origin: Origin) -> Iterator[None]:
    """While a handler answers as `origin` (a timer's, in the worker)."""
    token = _current.set(origin)
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


def sent_as(to: str, account_sid: str, sender: str) -> tuple[str, str]:
    """The account and the sender of a text sent first: the stack's (`TwilioAccountSid`,
    `SendFrom`), else those of the message answered when it was sent (`account_sid`, `sender`);
    a sender's channel (`whatsapp:`) follows the recipient's. `ConfigurationError` from a script
    of a stack without them."""
    account_sid = sending_account_sid() or account_sid
    sender = send_from() or sender
    if not (account_sid and sender):
        raise ConfigurationError(
            "a text sent from a script needs the stack's TwilioAccountSid and SendFrom"
        )
    return account_sid, on_channel_of(to, sender)


def on_channel_of(to: str, number: str) -> str:
    """`number` on the channel of the address `to` (`whatsapp:+1415…` for a WhatsApp `to`): a
    Messaging Service's sid as it is, since a service serves every channel."""
    if number.startswith("MG"):
        return number
    channel, colon, _ = to.rpartition(":")
    return f"{channel}{colon}{number.rpartition(':')[2]}"


_timers_set: ContextVar[list[Job] | None] = ContextVar("timers_set", default=None)


@contextmanager
def noting_timers() -> Iterator[list[Job]]:
    """The jobs of the timers set meanwhile in this context (`sms_webhook/timers.py`)."""
    jobs: list[Job] = []
    token = _timers_set.set(jobs)
    try:
        yield jobs
    finally:
        _timers_set.reset(token)


def note_timer(job: Job) -> None:
    """A timer was set: told to whoever notes them now."""
    noting = _timers_set.get()
    if noting is not None:
        noting.append(job)
