"""Replies that take longer than Twilio waits, and texts the bot sends first: both are jobs
(`sms_webhook/jobs.py`) on a queue, which the worker (`sms_webhook/worker.py`) runs. So is a reply
that came too late for Twilio (`answer_now`).

    from sms_webhook import send_text

    @router.keyword("AGENT")
    def call_an_agent(message: IncomingMessage) -> Reply:
        send_text(STAFF, f"A customer asks for an agent: {message.body}", key=message.sid)
        return "An agent will text you back shortly."

Deployed, a job is a message on the SQS queue `LATER_QUEUE_URL` names: durable, retried, and
once it has failed a few times, in the dead-letter queue, never silently lost. Without a queue
(`make run`, `make chat`, `make invoke`, the tests) a job runs on this machine, and what it sends
goes to the local outbox, never to Twilio (`sms_webhook/local_run.py`).
"""

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal

from sms_webhook import aws, deadlines, local_run, origin
from sms_webhook.config import (
    ConfigurationError,
    later_queue,
    send_from,
    status_callback_setting,
)
from sms_webhook.form import FormFields
from sms_webhook.jobs import Job, ReplyJob, TextJob, TimerJob, encode
from sms_webhook.router import Later, Router
from sms_webhook.telemetry import count, logger
from sms_webhook.twiml import (
    MAX_MEDIA,
    MAX_MESSAGES,
    MAX_TEXT_LENGTH,
    Reply,
    characters,
    fits_in_messages,
    reply_texts,
)


class QueueUnavailableError(Exception):
    """The job could not be put on the queue: the caller must know that nothing will be sent."""


class InvalidTextError(ValueError):
    """`send_text` was called with what cannot become a text."""


class TooLargeToQueueError(InvalidTextError):
    """SQS refused the job as longer than its queue takes (1 MiB at most): the job must be
    smaller, the queue is not down."""


class RecipientRefusedError(InvalidTextError):
    """The recipient may not be sent this text (`sms_webhook/recipient_rules.py`): Twilio would
    refuse it."""


class OptedOutError(RecipientRefusedError):
    """The recipient opted out of texts from this number (STOP)."""


class OutsideWhatsAppWindowError(RecipientRefusedError):
    """A WhatsApp user who has not written in the 24 hours before the text would go: only a
    template may go to them then (`sms_webhook/whatsapp_window.py`)."""


MAX_KEY_LENGTH = 200

TEMPLATE_SID = re.compile(r"HX[0-9a-fA-F]{32}")
"""A Content template's sid, as Twilio's Content API names it (`send_text(template=)`)."""
MAX_TEMPLATE_VARIABLES_LENGTH = 1024
"""Characters of a template's variables as Twilio gets them (`ContentVariables`, JSON): WhatsApp
refuses a template whose text, its variables filled in, is longer (error 63021). The template's
text is Twilio's, never known here: variables longer than that alone are sure to be refused."""


def answer_now(
    answer: Reply | Later, fields: FormFields, status_callback: str | None, router: Router
) -> Reply:
    """What Twilio gets now for a message whose signature held; what goes later is queued (the
    worker trusts the fields as they are, since only the webhook puts a reply on the queue).

    A handler that runs later is queued, and Twilio gets its acknowledgement. A reply made when
    Twilio may have stopped waiting (`deadlines.twilio_waits`) is queued as the reply it is: the
    worker sends it, once, from the number texted, and Twilio gets nothing to send twice.
    """
    if isinstance(answer, Later):
        enqueue(ReplyJob(_pairs(fields), status_callback, handler=answer.handler), router)
        return answer.acknowledgement
    if deadlines.twilio_waits():
        return answer
    texts = tuple(text for text in reply_texts(answer) if text.body or text.media)
    if texts:
        logger.warning(
            "reply code took longer than Twilio waits: its reply goes as texts",
            extra={"seconds": round(deadlines.seconds_since_arrival(), 1)},
        )
        enqueue(ReplyJob(_pairs(fields), status_callback, texts=texts), router)
    return None


def _pairs(fields: FormFields) -> tuple[tuple[str, str], ...]:
    """The message's fields as a job carries them: made only for a message that goes later."""
    return tuple((name, value) for name, values in fields.items() for value in values)


def send_text(
    to: str,
    body: str = "",
    *,
    media: Sequence[str] = (),
    key: str,
    at: datetime | timedelta | None = None,
    handler: str | None = None,
    template: str = "",
    variables: Mapping[str, str] | None = None,
) -> None:
    """Send a text (and media URLs, for an MMS) to `to` from your Twilio number, through the
    queue: sent once per `key` and `to`, however often this is called with them (a retried
    handler, a script run twice): the first text given with them is the one sent, whole. It is
    retried until it is sent or lands in the dead-letter queue.

    `at`: a reminder, sent then (an aware datetime) or after that long (a timedelta), a minute
    to a year ahead; `InvalidTimeError` for a naive datetime or a time out of that range. With
    `handler=` (the name of a `@router.timer` handler) instead of a body, its text is written
    when the time comes, by that handler, with the recipient's conversation. `cancel_text`
    withdraws a reminder that has not gone.

    `template`: a Content template's sid (`HX…`) sent instead of a body, with the values of its
    `variables` by name (`{"1": "Ana"}`): on WhatsApp, the only text that goes more than 24 hours
    after the person's last message (Twilio's error 63016), and since April 2025 only by its
    sid. It goes on SMS too. Its text is Twilio's: no SMS segments are counted for it here.

    `to` is an E.164 number (`+14155551234`) or a channel address (`whatsapp:+1415…`); `body` what
    fits in 10 messages of 1,600 characters as it is cut at spaces (16,000 at most, an emoji
    counting two); `media` up to 10 public http(s) URLs (one URL alone may be given as a string). It
    is sent from the stack's `SendFrom`, of its account `TwilioAccountSid`, when they are set,
    else, called while a message is answered, from the number that message was sent to.
    Deliveries are reported on `/status` (from a script, to `STATUS_CALLBACK_URL` when it is
    set). A long body goes as several messages. `InvalidTextError` for what cannot be sent,
    before anything is queued: `OptedOutError` for a recipient who opted out of texts from that
    number, `OutsideWhatsAppWindowError` for a WhatsApp user who will not have written in the 24
    hours before it goes (one GetItem: `sms_webhook/recipient_rules.py`); `QueueUnavailableError`
    when the job could not be queued: nothing will be sent.
    """
    urls = [media] if isinstance(media, str) else list(media)
    if not _is_address(to):
        raise InvalidTextError("to must be a number like +14155551234 or a channel address")
    if handler is not None and (body or urls or at is None):
        raise InvalidTextError("handler= writes a reminder's text when due: give at=, no body")
    if variables is not None and not template:
        raise InvalidTextError("variables= go with a template=: give its sid")
    if template and (body or urls or handler is not None):
        raise InvalidTextError("a template= is the whole text: give no body, media or handler=")
    if not body and not urls and handler is None and not template:
        raise InvalidTextError("a text needs a body or media, or a template")
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
    filled = _template_variables(template, variables or {}) if template else ""
    answering = origin.current() or origin.Origin("", "", status_callback_setting())
    account_sid, sender, callback = answering[:3]
    text = partial(
        TextJob,
        to,
        body,
        tuple(urls),
        key,
        account_sid,
        sender,
        callback,
        number=_sending_number(answering),
    )
    if at is None:
        _check_recipient(answering, to, None if template else now().timestamp())
        enqueue(text(template=template, variables=filled))
        return
    from sms_webhook import timers  # loaded by the handlers that set timers only

    due = int(timers.due_at(at))
    origin.sent_as(to, account_sid, sender)  # said now, not when it goes: a year later maybe
    free_text = handler is None and not template  # held to WhatsApp's window when it goes
    _check_recipient(answering, to, due if free_text else None)
    job: Job = (
        text(queued_at=due, template=template, variables=filled)
        if handler is None
        else TimerJob(
            to,
            _conversation_number(to, answering),
            handler,
            key,
            account_sid,
            sender,
            callback,
            queued_at=due,
        )
    )
    timers.start(timers.reminder_name(to, key), job)


def _template_variables(template: str, variables: object) -> str:
    """The variables as Twilio takes them (`ContentVariables`, a JSON object of their values by
    name), once the template's sid and they are found sendable: names and values non-empty
    strings (WhatsApp refuses an empty value), within `MAX_TEMPLATE_VARIABLES_LENGTH`."""
    if not isinstance(template, str) or not TEMPLATE_SID.fullmatch(template):
        raise InvalidTextError('template must be a Content template\'s sid: "HX" and 32 hex digits')
    if not isinstance(variables, Mapping) or not all(
        isinstance(value, str) and value for pair in variables.items() for value in pair
    ):
        raise InvalidTextError('variables must map names to values, non-empty strings: {"1": "A"}')
    written = json.dumps(dict(variables), ensure_ascii=False)
    if len(written) > MAX_TEMPLATE_VARIABLES_LENGTH:
        raise InvalidTextError(
            f"variables must be at most {MAX_TEMPLATE_VARIABLES_LENGTH:,} characters as JSON "
            f"(Twilio's error 63021), not {len(written):,}"
        )
    return written if variables else ""


def _sending_number(answering: origin.Origin) -> str:
    """The number a text goes out from, whose consent counts: the stack's `SendFrom`, else the
    number the message answered was sent to (for a Messaging Service, that number's)."""
    sender = send_from() or answering.number
    return answering.number if sender.startswith("MG") else sender


def _check_recipient(answering: origin.Origin, to: str, at: float | None) -> None:
    """`RecipientRefusedError` when `to` opted out of the sending number's texts, or is a
    WhatsApp user whose window is shut at `at`: one GetItem (`sms_webhook/recipient_rules.py`).
    The sender of the message being answered has just written."""
    from sms_webhook.recipient_rules import refusal

    wrote_at = now().timestamp() if answering.person == to else None
    refused = refusal(to, _sending_number(answering), at, wrote_at)
    if refused == "opted out":
        raise OptedOutError("the recipient opted out of texts from this number (STOP)")
    if refused == "outside the window":
        raise OutsideWhatsAppWindowError(
            "on WhatsApp, a text of your own words goes only within 24 hours of the person's "
            "last message, and they wrote none in the 24 hours before this one would go: send "
            "an approved template instead: send_text(to, template='HX…', variables={...}, key=...)"
        )


def _conversation_number(to: str, answering: origin.Origin) -> str:
    """The Twilio number of the conversation a reminder's handler gets: the number the message
    answered was sent to, else the stack's `SendFrom`, on the recipient's channel."""
    number = answering.number or send_from() or ""
    if number.startswith("MG"):
        raise ConfigurationError(
            "a reminder written by a handler, set from a script, needs SendFrom to be a number: "
            "it names the recipient's conversation"
        )
    return origin.on_channel_of(to, number)


def now() -> datetime:
    """The time, aware (UTC): deployed, the time; on this machine, the local run's clock, which
    the phone's `advance` and `make chat`'s `/wait` move on. Compute a reminder's time from it,
    and it stays ahead of that clock."""
    from sms_webhook import local_clock  # the clock of a local run, when one is in use

    return datetime.fromtimestamp(local_clock.now(), UTC)


CancelResult = Literal["cancelled", "sent", "unknown"]


def cancel_text(to: str, key: str) -> CancelResult:
    """Withdraw the reminder `send_text(to, ..., key=key, at=...)` set: "cancelled" when it had
    not gone (and now never will), "sent" when it has gone already, "unknown" when no reminder
    waited under that key for `to` (never set, or cancelled before; one already on its way to
    the worker is stopped there). A key, once sent or cancelled, is spent: a new reminder needs a
    new key. `NotScheduledError` when the Scheduler could not be reached: nothing was withdrawn.
    """
    from sms_webhook import local_clock, timers

    name = timers.reminder_name(to, key)
    withdrawn = timers.stop(name)
    if later_queue():
        from sms_webhook import worker  # its records: what was sent under which key

        try:
            if not worker.spend(to, key):
                return "sent"
        except Exception as error:  # the records out of reach: whether it goes is unknown
            raise timers.failed("reminder not cancelled", error) from None
    elif not withdrawn and (clock := local_clock.current()) and clock.went_off(name):
        return "sent"
    return "cancelled" if withdrawn else "unknown"


def run_due_timers(router: Router, until: float | None = None) -> int:
    """On this machine: the timers due on the local clock go off, the earliest first, their jobs
    put on the local queue, as the Scheduler puts them on the queue deployed; how many. With
    `until` (a time ahead: the phone's `advance`, `make chat`'s `/wait`), the clock moves on to it,
    stopping at each timer's time on the way, so that a timer set by one that goes off counts
    from when that one went off (a nudge's own deadline), and goes off too if due by `until`."""
    from sms_webhook import local_clock  # a local run only

    clock = local_clock.current()
    fired = 0
    while clock is not None:
        waiting = clock.waiting()
        if until is not None and waiting and waiting[0].queued_at <= until:
            clock.move_to(waiting[0].queued_at)
        due = clock.take_due()
        if not due:
            break
        for job in due:
            enqueue(job, router)
            fired += 1
    if clock is not None and until is not None:
        clock.move_to(until)
    return fired


def enqueue(job: Job, router: Router | None = None) -> None:
    """Put the job on the queue, or without one (a local run) hand it to the local run, which
    runs it with `router`'s later handlers (a reply's: the router that answered its message; a
    text sent first needs none)."""
    queue = later_queue()
    if not queue:
        from sms_webhook import worker  # a local run only: the webhook's own needs none of it

        run = local_run.current()
        run.put(job, partial(worker.run_locally, job, router, run.deliver))
        return
    body = encode(job)
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
