"""The worker: the Lambda function that runs the jobs the webhook and `send_text` queue
(`sms_webhook/later.py`), and sends what they say (`sms_webhook/sending.py`).
`handler.later_replies_handler` is its Lambda handler: `run_batch` with the router of replies.py.

A job is a later handler's run on a message (its reply goes to the sender, from the number the
message was sent to, or its Messaging Service) or a text sent first (from `SEND_FROM`, else from
the number of the message answered when it was sent). Each message sent asks for delivery
reports on `/status`.

SQS delivers a job at least once, and a worker may crash after Twilio took a message and before
the job is acknowledged. So, once per key on the deduplication table (`sms_webhook/idempotency.py`),
what a job sends is pinned first: a later handler runs once per `MessageSid`, a text sent first is
taken once per key and recipient, and the messages they make are recorded (a handler's run the
worker did not finish, cut off at its timeout, is run again by the job's retry). Then each message
is sent once: a crash mid-send leaves its key "in progress" for good, and the job, retried, ends in
the dead-letter queue rather than texting the recipient twice.

What Twilio cannot send is a final error, logged and counted, and never retried: a reply or a text
over `MAX_MESSAGES` messages, a record over `MAX_RECORD_SIZE`, and Twilio's refusals of a recipient
(`sending.REFUSALS`). Any other error of Twilio's or a connection that could not be made fails the
job, and SQS brings it back after a backoff, up to the queue's limit, then to the dead-letter
queue. A request Twilio got, whose answer did not come in time or cannot be read, may have been
sent: it is recorded as sent, never sent again, and logged.
"""

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from sms_webhook import aws, deadlines, local_clock, local_run
from sms_webhook.config import (
    ConfigurationError,
    idempotency_table,
    later_queue_url,
)
from sms_webhook.form import FormFields
from sms_webhook.idempotency import RunOnce, runner, stored
from sms_webhook.jobs import Job, ReplyJob, TextJob, TimerJob, UnreadableJobError, decode
from sms_webhook.message import IncomingMessage
from sms_webhook.origin import Origin, answering, reply_sender, replying_to, sent_as
from sms_webhook.router import Router, Timer
from sms_webhook.segments import NOT_SMS, billed_segments, smart_encodes_for
from sms_webhook.senders import opted_out_at_twilio, recipient
from sms_webhook.sending import (
    UNANSWERED,
    UNSUBSCRIBED,
    Outgoing,
    RefusedError,
    RetryableError,
    TwilioError,
    UnansweredError,
    to_twilio,
)
from sms_webhook.smart_encoding import smart_encoded
from sms_webhook.telemetry import count, emf, logger, raised_at
from sms_webhook.twiml import (
    MAX_MESSAGE_LENGTH,
    MAX_MESSAGES,
    MAX_TEXT_LENGTH,
    Text,
    characters,
    messages_of,
)
from sms_webhook.whatsapp_window import is_open, is_whatsapp

TOO_LARGE = "too_large"
"""A text more than Twilio can send (`MAX_MESSAGES`) or a record can hold (`MAX_RECORD_SIZE`):
how `LaterRepliesFailed` counts it, beside `sending.ERROR_CODES`."""

FIRST_BACKOFF = 30
"""Seconds before a failed job's first retry; each next one waits twice as long."""
LONGEST_BACKOFF = 900

MAX_RECORD_SIZE = 350_000
"""Bytes of what one record holds (UTF-8): under DynamoDB's 400 KB item limit, with room for the
record's key, status and expiry. A reply of `MAX_MESSAGES` messages takes 48,000 in Japanese,
112,000 if every character were one JSON escapes: only media URLs thousands of characters long
reach it."""

RECORD_EXPIRY = 15 * 24 * 60 * 60
"""How long a reply and a send are remembered: longer than a job lives in its queue and then its
dead-letter queue (14 days from when it was first queued)."""
MAX_JOB_AGE = 14 * 24 * 60 * 60
"""A job queued longer ago is not run: a replay from the dead-letter queue counts as a new message
for SQS, but its records may be gone, and what it sent could be sent again."""
KEY_PREFIX = "later-replies"
"""The records' keys are `later-replies#<hash>`, whatever the function or this code is named."""


class UnrunnableJobError(Exception):
    """The worker will not run this job, and says why: it stays in the queues until mended."""


Deliver = Callable[[Outgoing], str]
"""Sends one message, and says its sid: Twilio's REST API, or a local run's outbox."""


def run_batch(event: Any, context: Any, router: Router) -> Mapping[str, object]:
    """Every SQS record of the batch run as a job; those that failed are reported so that SQS
    retries them alone (Powertools' batch utility)."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    if not is_sqs_batch(event):  # Powertools would fail on it with a traceback
        logger.error("not an SQS event: no job to run")
        return {"batchItemFailures": []}
    deadlines.start_job(context.get_remaining_time_in_millis())
    here = local_run.sending_here()
    deliver = here.deliver if here else to_twilio

    def run(record: Any) -> None:
        try:
            run_job(decode(record.body), router, deliver, context)
        except Exception as error:
            failed(error)
            _back_off(record.receipt_handle, int(record.attributes.approximate_receive_count))
            raise

    # Every record failed is no error of the worker's: each is retried, as when some fail.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=run, processor=processor, context=context
    )


def is_sqs_batch(event: object) -> bool:
    """Whether the event is what SQS hands Lambda: records from `aws:sqs`, each with an id to
    report its failure by and a body."""
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(
            isinstance(record, dict)
            and record.get("eventSource") == "aws:sqs"
            and isinstance(record.get("messageId"), str)
            and isinstance(record.get("body"), str)
            for record in records
        )
    )


class _Plan(NamedTuple):
    """What a job sends, to whom, as whom, and the keys it is sent once under."""

    account_sid: str
    to: str
    sender: str
    number: str
    """Your number whose recipients' records count (`recipient_rules`): the sender's, unless
    that is a Messaging Service."""
    pinned: str
    """The key of the record that pins its messages."""
    sent: str
    """The prefix of each message's key."""
    texts: Callable[[], Iterable[Text]]
    template: str = ""
    """A Content template's sid, sent instead of texts, with its `variables`."""
    variables: str = ""


def run_job(job: Job, router: Router | None, deliver: Deliver, invocation: Any = None) -> None:
    """Run one job: a later handler and its reply, or a text sent first. `invocation` is the
    worker's Lambda context: a handler's run counts as unfinished once the invocation is over."""
    age = time.time() - job.queued_at
    if age > MAX_JOB_AGE:  # a replay from the dead-letter queue, long after
        raise UnrunnableJobError(
            f"queued {age / 86400:.0f} days ago: what it sent may be forgotten, so it is not run"
        )
    if isinstance(job, ReplyJob):
        plan = _reply_plan(job, router)
    elif isinstance(job, TextJob):
        plan = _text_plan(job)
    else:
        plan = _timer_plan(job, router)
    record = (
        partial(_template_record, plan.template, plan.variables)
        if plan.template
        else lambda: _record(plan.texts(), plan.to)
    )
    recorded = _once(plan.pinned, record, invocation)
    if recorded == CANCELLED:
        logger.info("reminder not sent: it was cancelled", extra={"to": recipient(plan.to)})
        return
    message = partial(
        Outgoing, plan.account_sid, plan.to, plan.sender, status_callback=job.status_callback
    )
    pinned = list(_pinned(recorded, message))
    if pinned and _refused(job, plan, free_text=any(not each.template for each in pinned)):
        return
    for index, outgoing in enumerate(pinned):
        if not _send_once(f"{plan.sent} {index}", outgoing, deliver):
            return  # the recipient opted out: the rest would be refused as well


def _refused(job: Job, plan: _Plan, *, free_text: bool) -> bool:
    """Whether the recipient may not get these messages now (logged and counted where decided):
    a text sent first or a timer's, to whoever opted out since it was set; on WhatsApp, words of
    your own (`free_text`: not a template) once the window has shut. A reply reads nothing while
    the window its message opened is open, nor ever on SMS: its sender wrote it."""
    now, wrote_at = local_clock.now(), None
    if isinstance(job, ReplyJob):  # its sender wrote when it was queued
        if not is_whatsapp(plan.to) or is_open(job.queued_at, now):
            return False
        wrote_at = job.queued_at
    from sms_webhook.recipient_rules import refusal  # one GetItem on the senders' table

    return refusal(plan.to, plan.number, now if free_text else None, wrote_at) is not None


def _reply_plan(job: ReplyJob, router: Router | None) -> _Plan:
    """A reply goes to the sender, from the number texted (or the Messaging Service)."""
    message = IncomingMessage.from_fields(FormFields.from_pairs(job.fields))
    sid, texts = message.sid, _reply_texts(job, message, router)
    sender = reply_sender(message)
    return _Plan(
        message.account_sid,
        message.from_number,
        sender,
        message.to_number,
        f"reply {sid}",
        f"sent {sid}",
        texts,
    )


def _reply_texts(
    job: ReplyJob, message: IncomingMessage, router: Router | None
) -> Callable[[], Iterable[Text]]:
    """The texts the webhook made too late for Twilio, or what the later handler the job names
    answers, when it runs."""
    if job.texts:
        return lambda: job.texts
    name = job.handler or ""
    if router is None or name not in router.later_handlers():  # replies.py changed meanwhile
        raise UnrunnableJobError(f"no handler runs later as {name}: renamed or removed?")

    def texts() -> Iterable[Text]:
        with replying_to(message, job.status_callback):  # for the texts it sends first
            return router.later_reply(name, message)

    return texts


def _text_plan(job: TextJob) -> _Plan:
    account_sid, sender = _sending_account(job)
    texts = [Text(job.body, job.media)]
    keys = _keys(job.to, job.key)
    number = job.number or sender
    return _Plan(
        account_sid, job.to, sender, number, *keys, lambda: texts, job.template, job.variables
    )


def _keys(to: str, key: str) -> tuple[str, str]:
    """The keys a text sent first, or a timer's, is sent once under: one key may serve several
    recipients."""
    return f"pinned {to} {key}", f"text {to} {key}"


def _timer_plan(job: TimerJob, router: Router | None) -> _Plan:
    """A timer's reply goes to the person, from the number (or Messaging Service) that set it,
    else the stack's `SendFrom`. A timer whose handler is gone sends nothing: logged, counted."""
    account_sid, sender = _sending_account(job)
    if router is None or job.handler not in router.timer_handlers():
        logger.error(
            "timer went off, but no timer handler has its name: renamed or removed?",
            extra={"handler": job.handler, "to": recipient(job.to)},
        )
        count("TimersUnhandled")
        return _Plan(account_sid, job.to, sender, job.number, *_keys(job.to, job.key), tuple)
    timer = Timer(job.to, job.number, job.key, datetime.fromtimestamp(job.queued_at, UTC))
    setter = Origin(account_sid, sender, job.status_callback, job.number)
    texts = partial(_timer_texts, router, job, timer, setter)
    return _Plan(account_sid, job.to, sender, job.number, *_keys(job.to, job.key), texts)


def _timer_texts(router: Router, job: TimerJob, timer: Timer, origin: Origin) -> Iterable[Text]:
    """What the timer's handler answers, run as the number that set the timer."""
    with answering(origin):
        return router.timer_reply(job.handler, timer, job.expectation)


CANCELLED = "cancelled"
"""What a text's record holds when `cancel_text` came before the worker: nothing is sent."""


def spend(to: str, key: str) -> bool:
    """Make sure nothing goes under this recipient and key from now on (`cancel_text`): whether
    nothing went before either."""
    table = idempotency_table()
    if not table:
        raise ConfigurationError("cancelling a reminder needs the deduplication table")
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    pinned, _ = _keys(to, key)
    try:
        return records(table)(pinned, lambda: CANCELLED, None) == CANCELLED
    except IdempotencyAlreadyInProgressError:  # a worker pins it now: it is being sent
        return False


def _record(texts: Iterable[Text], to: str) -> str:
    """The messages that send these texts, as the worker pins them: JSON, which a retry and a
    later call with the same key send instead of texts of their own. No message when they are
    more than Twilio can send or a record can hold: a final error, logged and counted."""
    smart, sendable = smart_encodes_for(to), []
    for text in texts:
        body = _sendable(text.body)  # as Twilio gets it, before its encoding is decided
        body = smart_encoded(body) if smart else body
        sendable.append(Text(body, tuple(map(_sendable, text.media))))
    length = sum(characters(text.body) for text in sendable)
    if length > MAX_TEXT_LENGTH:  # more messages than allowed, however it is cut: not cut
        pieces, needed = [], -(-length // MAX_MESSAGE_LENGTH)
    else:
        pieces = messages_of(sendable)
        needed = len(pieces)
    if needed > MAX_MESSAGES:
        return _too_large(
            f"text not sent: longer than {MAX_MESSAGES} messages of 1,600 characters",
            {"messages": needed, "to": recipient(to)},
        )
    record = json.dumps([[piece.body, list(piece.media)] for piece in pieces], ensure_ascii=False)
    size = len(stored(record).encode())
    if size > MAX_RECORD_SIZE:
        return _too_large(
            "text not sent: too large to record", {"record_bytes": size, "to": recipient(to)}
        )
    return record


def _template_record(template: str, variables: str) -> str:
    """A template's message as the worker pins it, beside texts' `[body, media]`: `["", [],
    template, variables]`. Its text is Twilio's: nothing here to cut, or to find too large."""
    return json.dumps([["", [], template, variables]], ensure_ascii=False)


def _pinned(recorded: str, message: Callable[..., Outgoing]) -> Iterable[Outgoing]:
    """The messages a record pins, made by `message` from what each holds. A text is split
    again: a record of an earlier release holds whole texts; pieces stay as they are."""
    for body, media, *template in json.loads(recorded):
        if template:
            sid, variables = template
            yield message("", (), template=sid, variables=variables)
            continue
        for piece in messages_of([Text(body, tuple(media))]):
            yield message(piece.body, tuple(piece.media))


def _too_large(line: str, details: dict[str, object]) -> str:
    """A final error, logged and counted: its record holds no message, so no retry tries again."""
    count("LaterRepliesFailed", ErrorCode=TOO_LARGE)
    logger.error(line, extra=details)
    return "[]"


_HALVES = re.compile("[\ud800-\udfff]")
"""Unpaired surrogates, halves of a character (only ever unpaired in a Python str): no UTF-8 can
carry them, so neither a request to Twilio nor a record can."""


def _sendable(text: str) -> str:
    """The text without the halves of characters, which would fail every attempt to send it."""
    kept, dropped = _HALVES.subn("", text)
    if dropped:
        logger.warning("text characters dropped: half a character", extra={"dropped": dropped})
    return kept


def run_locally(job: Job, router: Router | None, deliver: Deliver) -> None:
    """A job run on this machine (no queue): its failure is logged, as the worker's would be."""
    try:
        run_job(job, router, deliver)
    except Exception as error:
        failed(error)


def _send_once(key: str, outgoing: Outgoing, deliver: Deliver) -> bool:
    """Send it once; False when Twilio refused it because the recipient opted out."""
    try:
        _once(key, lambda: _attempt(outgoing, deliver))
    except RefusedError as refused:  # done: retrying would not help
        _count_failure(refused)
        logger.error(
            "text not sent: Twilio refused it",
            extra={"error_code": refused.code, "to": recipient(outgoing.to)},
        )
        if refused.code == UNSUBSCRIBED:
            opted_out_at_twilio(outgoing.sender, outgoing.to)
            return False
    except RetryableError as error:
        _count_failure(error)
        logger.warning(
            "text not sent yet: the job is retried",
            extra={"error_code": error.code, "to": recipient(outgoing.to)},
        )
        raise
    return True


def _attempt(outgoing: Outgoing, deliver: Deliver) -> str:
    """`deliver`, where a text Twilio may have taken without saying so counts as sent: one text
    lost, and logged, rather than the same text twice."""
    try:
        sid = deliver(outgoing)
    except UnansweredError as error:
        _count_failure(error)
        logger.error(
            f"text may not have been sent: {UNANSWERED[error.code]}",
            extra={"error_code": error.code, "to": recipient(outgoing.to)},
        )
        return "unknown"
    segments, encoding = (  # a template's text is Twilio's: its segments are not known here
        NOT_SMS
        if outgoing.template
        else billed_segments(outgoing.body, outgoing.media, outgoing.to)
    )
    sent = {"message_sid": sid, "segments": segments, "encoding": encoding}
    metrics = emf({"LaterRepliesSent": 1, "SegmentsSent": segments})
    logger.info("text sent", extra={"to": recipient(outgoing.to), **sent, **metrics})
    return sid


def _count_failure(error: TwilioError) -> None:
    count("LaterRepliesFailed", ErrorCode=error.counted_as)


def _sending_account(job: TextJob | TimerJob) -> tuple[str, str]:
    """The account and the sender of a text sent first or a timer's."""
    return sent_as(job.to, job.account_sid, job.sender)


def _once(key: str, make: Callable[[], str], invocation: Any = None) -> str:
    """`make()`, once per key while the record lasts; without a table (a local run), every time.
    A run cut off keeps its key taken for good, so that nothing it may have sent is sent again,
    unless `invocation` is given: then the key is free again once that invocation is over."""
    table = idempotency_table()
    if table:
        return records(table)(key, make, invocation)
    if local_run.sending_here() is None:
        raise ConfigurationError(
            "later replies need the deduplication table (deploy with Idempotency=Enabled): "
            "without it a reply could be sent twice"
        )
    return make()


def records(table: str) -> RunOnce:
    """The worker's records on that table."""
    return runner(table, prefix=KEY_PREFIX, expiry=RECORD_EXPIRY)


def _back_off(receipt_handle: str, receive_count: int) -> None:
    """Make the job visible again after a delay that doubles with each attempt."""
    delay = min(LONGEST_BACKOFF, FIRST_BACKOFF * 2 ** max(0, receive_count - 1))
    queue = later_queue_url()
    if not queue:  # a local run of the worker: no queue to hide the job on
        return
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queue, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
    except Exception as error:  # the queue's own visibility timeout applies instead
        logger.warning("backoff not set", extra={"reason": type(error).__name__})


def failed(error: Exception) -> None:
    """A job failed: the error's type and where it was raised; the text of this project's own
    errors, which say what to mend (others' may hold what a message said)."""
    details = {"error": type(error).__name__, "at": raised_at(error)}
    if isinstance(error, UnrunnableJobError | UnreadableJobError | ConfigurationError):
        details["reason"] = str(error)
    logger.error("later reply failed", extra=details)
    local_run.failed(error)
