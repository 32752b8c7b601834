"""Replies that take longer than Twilio waits, and texts the bot sends first: both are jobs on a
queue, which the worker (`handler.later_replies_handler`, `sms_webhook/sending.py`) runs. So is a
reply that came too late for Twilio (`answer_now`).

    from sms_webhook.later import send_text

    @router.keyword("AGENT")
    def call_an_agent(message: IncomingMessage) -> Reply:
        send_text(STAFF, f"A customer asks for an agent: {message.body}", key=message.sid)
        return "An agent will text you back shortly."

Deployed, a job is a message on the SQS queue `LATER_QUEUE_URL` names: durable, retried, and
once it has failed a few times, in the dead-letter queue, never silently lost. Without a queue
(`make run`, `make chat`, `make invoke`, the tests) a job runs on this machine, and what it sends
goes to the local outbox (`OUTBOX_FILE`), never to Twilio.
"""

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple

from sms_webhook import aws, deadlines
from sms_webhook.config import (
    ConfigurationError,
    idempotency_table,
    later_queue_url,
    outbox_file,
)
from sms_webhook.form import FormFields
from sms_webhook.telemetry import count, logger
from sms_webhook.twiml import (
    MAX_MEDIA,
    MAX_MESSAGES,
    MAX_TEXT_LENGTH,
    characters,
    fits_in_messages,
    reply_texts,
)

if TYPE_CHECKING:
    from sms_webhook.message import IncomingMessage
    from sms_webhook.twiml import Reply, Text

Job = dict[str, Any]
"""A job as the queue carries it, in JSON: `{"job": "reply", ...}` or `{"job": "text", ...}`."""

HANDLERS: "dict[str, Callable[[IncomingMessage], tuple[Text, ...]]]" = {}
"""The handlers that run later, by name, as routers register them: the worker runs them by the
name a job carries."""


class Later(NamedTuple):
    """A message whose handler runs later: what the webhook answers Twilio with meanwhile."""

    route: str
    """The handler's name (`replies.report`), by which the worker finds it."""
    acknowledgement: str | None
    """The text answered at once, or None for no text."""


class QueueUnavailableError(Exception):
    """The job could not be put on the queue: the caller must know that nothing will be sent."""


class InvalidTextError(ValueError):
    """`send_text` was called with what cannot become a text."""


class TooLargeToQueueError(InvalidTextError):
    """SQS refused the job as longer than its queue takes (1 MiB at most): the job must be
    smaller, the queue is not down."""


MAX_KEY_LENGTH = 200


class Origin(NamedTuple):
    """The message being answered, which the texts its handler sends first go out like: from its
    account and the number it was sent to, with delivery reports where its reply's go."""

    account_sid: str
    sender: str
    status_callback: str | None


_answered: ContextVar[Origin | None] = ContextVar("answered", default=None)


@contextmanager
def answering(message: "IncomingMessage", status_callback: str | None) -> Iterator[None]:
    """While a handler answers `message`: the webhook and the worker know its number, account
    and public URL, which a script calling `send_text` has to be told."""
    origin = Origin(message.account_sid, reply_sender(message), status_callback)
    token = _answered.set(origin)
    try:
        yield
    finally:
        _answered.reset(token)


def reply_sender(message: "IncomingMessage") -> str:
    """Who answers a message: the Messaging Service it came through, else the number texted."""
    return message.fields.get("MessagingServiceSid") or message.to_number


def answer_now(answer: "Reply | Later", fields: FormFields, status_callback: str | None) -> "Reply":
    """What Twilio gets now for a message whose signature held; what goes later is queued (the
    worker trusts the fields as they are, since only the webhook puts a reply on the queue).

    A handler that runs later is queued, and Twilio gets its acknowledgement. A reply made when
    Twilio may have stopped waiting (`deadlines.twilio_waits`) is queued as the reply it is: the
    worker sends it, once, from the number texted, and Twilio gets nothing to send twice.
    """
    if isinstance(answer, Later):
        _queue_reply(fields, status_callback, route=answer.route)
        return answer.acknowledgement
    if deadlines.twilio_waits():
        return answer
    texts = [
        [text.body, list(text.media)] for text in reply_texts(answer) if text.body or text.media
    ]
    if texts:
        logger.warning(
            "reply code took longer than Twilio waits: its reply goes as texts",
            extra={"seconds": round(deadlines.seconds_since_arrival(), 1)},
        )
        _queue_reply(fields, status_callback, texts=texts)
    return None


def _queue_reply(fields: FormFields, status_callback: str | None, **reply: object) -> None:
    """A reply to this message for the worker: the handler's to run (`route`), or its `texts`."""
    pairs = [[name, value] for name, values in fields.items() for value in values]
    enqueue({"job": "reply", **reply, "fields": pairs, "status_callback": status_callback})


def send_text(to: str, body: str = "", *, media: Sequence[str] = (), key: str) -> None:
    """Send a text (and media URLs, for an MMS) to `to` from your Twilio number, through the
    queue: sent once per `key` and `to`, however often this is called with them (a retried
    handler, a script run twice): the first text given with them is the one sent, whole. It is
    retried until it is sent or lands in the dead-letter queue.

    `to` is an E.164 number (`+14155551234`) or a channel address (`whatsapp:+1415…`); `body` what
    fits in 10 messages of 1,600 characters as it is cut at spaces (16,000 at most, an emoji
    counting two); `media` up to 10 public http(s) URLs (one URL alone may be given as a string). It
    is sent from the stack's `SendFrom` and `TwilioAccountSid` when they are set, else, called while
    a message is answered, from the number that message was sent to. Deliveries are reported on
    `/status` (from a script, to `STATUS_CALLBACK_URL` when it is set). A long body goes as several
    messages. `InvalidTextError` for what cannot be sent, before anything is queued;
    `QueueUnavailableError` when the job could not be queued: nothing will be sent.
    """
    urls = [media] if isinstance(media, str) else list(media)
    if not _is_address(to):
        raise InvalidTextError("to must be a number like +14155551234 or a channel address")
    if not body and not urls:
        raise InvalidTextError("a text needs a body or media")
    if not fits_in_messages(body):
        raise InvalidTextError(
            f"body must fit in {MAX_MESSAGES} messages of 1,600 characters, cut at spaces "
            f"({MAX_TEXT_LENGTH:,} characters at most), not {characters(body):,} characters"
        )
    if len(urls) > MAX_MEDIA or not all(
        isinstance(url, str) and url.startswith(("https://", "http://")) for url in urls
    ):
        raise InvalidTextError(f"media must be at most {MAX_MEDIA} http(s) URLs")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidTextError(f"key must be 1 to {MAX_KEY_LENGTH} characters")
    origin = _answered.get() or Origin(
        "", "", os.environ.get("STATUS_CALLBACK_URL", "").strip() or None
    )
    job = {"job": "text", "to": to, "body": body, "media": urls, "key": key}
    enqueue({**job, **origin._asdict()})


def enqueue(job: Job) -> None:
    """Put the job on the queue, or without one (a local run) hand it to `run_locally`. The job
    says when it was queued: the worker's records of what it sent do not last for ever."""
    job = {**job, "queued_at": int(time.time())}
    queue = later_queue_url()
    if queue and not idempotency_table():  # the worker would send nothing: say so now
        raise ConfigurationError(
            "later replies need the deduplication table: deploy with Idempotency=Enabled"
        )
    if not queue:
        if not outbox_file():  # nothing local may reach Twilio
            raise ConfigurationError(
                "later replies need LATER_QUEUE_URL (deployed) or OUTBOX_FILE (a local run)"
            )
        run_locally(job)
        return
    body = json.dumps(job)
    try:
        aws.client("sqs").send_message(QueueUrl=queue, MessageBody=body)
    except Exception as error:  # unreachable, throttled, no permission: nothing was queued
        if _refused_as_too_long(error):
            raise TooLargeToQueueError(
                f"the job is {len(body.encode()):,} bytes, more than the queue takes"
            ) from None
        count("LaterRepliesNotQueued")
        raise QueueUnavailableError(type(error).__name__) from None
    count("LaterRepliesQueued")


def _refused_as_too_long(error: Exception) -> bool:
    """Whether SQS refused the message as too long: `InvalidParameterValue`, "Message must be
    shorter than 1048576 bytes"."""
    response = getattr(error, "response", None)
    refusal = response.get("Error", {}) if isinstance(response, dict) else {}
    return bool(
        refusal.get("Code") == "InvalidParameterValue"
        and "shorter than" in str(refusal.get("Message", ""))
    )


def _in_the_background(job: Job) -> None:
    """A local run answers at once, as the webhook does; the job finishes in a thread. Inside
    Lambda's runtime (`make invoke`, `sam local invoke`), which stops every thread once the
    function has answered, the job runs before the answer instead."""
    if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        at_once(job)
        return
    from sms_webhook import sending

    threading.Thread(target=sending.run_locally, args=(job,), daemon=True).start()


def at_once(job: Job) -> None:
    """The job runs before `enqueue` returns: for tests, which want its texts right away."""
    from sms_webhook import sending

    sending.run_locally(job)


run_locally: Callable[[Job], None] = _in_the_background
"""How a local run runs a job: in a thread (`make run`, `make chat`), or `at_once` (the phone)."""


def _is_address(to: str) -> bool:
    channel, _, number = to.rpartition(":")
    digits = number[1:]
    return (
        (not channel or channel.isalpha())
        and number.startswith("+")
        and digits.isdigit()
        and digits.isascii()
        and 7 <= len(digits) <= 15  # noqa: PLR2004 (E.164's bounds)
    )
