"""The worker: runs the jobs `sms_webhook/later.py` queued, and sends what they say with twilio's
REST client.

A job is a later handler's run on a message (its reply goes to the sender, from the number the
message was sent to, or its Messaging Service) or a text sent first (from `SEND_FROM`, else from
the number of the message answered when it was sent). Each message sent asks for delivery
reports on `/status`.

SQS delivers a job at least once, and a worker may crash after Twilio took a message and before
the job is acknowledged. So, with Powertools Idempotency on the deduplication table, what a job
sends is pinned first: a later handler runs once per `MessageSid`, a text sent first is taken
once per key and recipient, and the messages they make are recorded (a handler's run the worker
did not finish, cut off at its timeout, is run again by the job's retry). Then each message is
sent once: a crash mid-send leaves its key "in progress" for good, and the job, retried, ends in
the dead-letter queue rather than texting the recipient twice.

What Twilio cannot send is a final error, logged and counted, and never retried: a reply or a text
over `MAX_MESSAGES` messages, a record over `MAX_RECORD_SIZE`, and Twilio's refusals of a recipient
(an unsubscribed recipient, an invalid number...). Any other error of Twilio's (a 429, a 5xx, a
rejected key) or a connection that could not be made fails the job, and SQS brings it back after a
backoff, up to the queue's limit, then to the dead-letter queue. A request Twilio got, whose answer
did not come in time or cannot be read, may have been sent: it is recorded as sent, never sent
again, and logged. Only the worker imports this module: the webhook's artifact holds no REST
client.
"""

import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple

from sms_webhook import aws, deadlines
from sms_webhook.config import (
    ConfigurationError,
    api_key,
    auth_tokens,
    idempotency_table,
    later_queue_url,
    outbox_file,
)
from sms_webhook.form import FormFields
from sms_webhook.later import HANDLERS, Job, answering, reply_sender
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import count, logger, pseudonym, raised_at
from sms_webhook.twiml import (
    MAX_MESSAGE_LENGTH,
    MAX_MESSAGES,
    MAX_TEXT_LENGTH,
    Text,
    characters,
    messages_of,
)

REFUSALS = frozenset({"21211", "21610", "21612", "21614", "21617", "63016"})
"""Twilio's refusals of one recipient or text (an invalid or unsubscribed number, a landline, a
WhatsApp session closed...): another attempt would be refused again. A region not enabled
(21408) is not one of them: whoever runs the account can enable it, then replay the job."""

TOO_LARGE = "too_large"
"""A text more than Twilio can send (`MAX_MESSAGES`) or a record can hold (`MAX_RECORD_SIZE`)."""

ERROR_CODES = REFUSALS | {"20003", "20429", "21408", "5xx", "network", "timeout", "unreadable"}
"""How `LaterRepliesFailed` is broken down: Twilio's codes a sender meets, its server errors, no
connection to it (`network`), no answer in time (`timeout`), an answer twilio's client cannot
read (`unreadable`); anything else is `other`. And `TOO_LARGE`, which is not Twilio's."""

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


class TwilioError(Exception):
    def __init__(self, code: str, status: int = 0) -> None:
        super().__init__(code)
        self.code = code
        """Twilio's error code (its HTTP status when it gave none), `network` when it could not
        be reached, `timeout` when it did not answer in time."""
        self.status = status

    @property
    def counted_as(self) -> str:
        """The error in `ERROR_CODES`' vocabulary."""
        if self.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return "5xx"
        return self.code if self.code in ERROR_CODES else "other"


class RetryableError(TwilioError):
    """Twilio could not take the message now (429, 5xx, the network): try the job again later."""


class RefusedError(TwilioError):
    """Twilio refused the message for good (its error code): retrying would not change that."""


class UnansweredError(TwilioError):
    """Twilio got the request and gave no answer that says what it did: the message may have
    been sent."""


UNANSWERED = {
    "timeout": "Twilio did not answer in time",
    "unreadable": "Twilio's answer could not be read",
}
"""Why an `UnansweredError` leaves a text maybe sent, by its code."""


class UnrunnableJobError(Exception):
    """The worker will not run this job, and says why: it stays in the queues until mended."""


class Outgoing(NamedTuple):
    """One message to send, with what Twilio's REST API needs for it."""

    account_sid: str
    to: str
    sender: str
    """A number or channel address, or a Messaging Service's sid (`MG…`)."""
    body: str
    media: tuple[str, ...]
    status_callback: str | None


def later_replies(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    """The worker's entry: every SQS record of the batch run as a job; those that failed are
    reported so that SQS retries them alone (Powertools' batch utility)."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    if not is_sqs_batch(event):  # Powertools would fail on it with a traceback
        logger.error("not an SQS event: no job to run")
        return {"batchItemFailures": []}
    deadlines.start_job(context.get_remaining_time_in_millis())

    def run(record: Any) -> None:
        try:
            run_job(json.loads(record.body), context)
        except Exception as error:
            _failed(error)
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


def run_job(job: Job, invocation: Any = None) -> None:
    """Run one job: a later handler and its reply, or a text sent first. `invocation` is the
    worker's Lambda context: a handler's run counts as unfinished once the invocation is over."""
    age = time.time() - job.get("queued_at", time.time())
    if age > MAX_JOB_AGE:  # a replay from the dead-letter queue, long after
        raise UnrunnableJobError(
            f"queued {age / 86400:.0f} days ago: what it sent may be forgotten, so it is not run"
        )
    texts: Callable[[], Iterable[Text]]
    if job["job"] == "reply":
        message = IncomingMessage.from_fields(FormFields.from_pairs(job["fields"]))
        texts = _reply(job, message)
        account_sid, to, sender = message.account_sid, message.from_number, reply_sender(message)
        pinned, sent = f"reply {message.sid}", f"sent {message.sid}"
    elif job["job"] == "text":
        account_sid, sender = _sending_account(job)
        to = job["to"]

        def texts() -> Iterable[Text]:
            return [Text(job["body"], tuple(job["media"]))]

        key = f"{to} {job['key']}"  # one key may serve several recipients
        pinned, sent = f"pinned {key}", f"text {key}"
    else:
        raise ValueError(f"not a job: {job['job']!r}")
    recorded = _once(pinned, lambda: _record(texts(), to), invocation)
    # Split again: a record of an earlier release holds whole texts; pieces stay as they are.
    pieces = messages_of(Text(body, tuple(media)) for body, media in json.loads(recorded))
    for index, piece in enumerate(pieces):
        outgoing = Outgoing(
            account_sid, to, sender, piece.body, tuple(piece.media), job["status_callback"]
        )
        _send_once(f"{sent} {index}", outgoing)


def _reply(job: Job, message: IncomingMessage) -> Callable[[], Iterable[Text]]:
    """The reply a job sends: the texts the webhook made too late for Twilio, or what the later
    handler it names answers."""
    if "texts" in job:
        return lambda: [Text(body, tuple(media)) for body, media in job["texts"]]
    run = HANDLERS.get(job["route"])
    if run is None:  # replies.py changed between the message and its job
        raise UnrunnableJobError(f"no handler runs later as {job['route']}: renamed?")

    def texts() -> Iterable[Text]:
        with answering(message, job["status_callback"]):  # for the texts it sends first
            return run(message)

    return texts


def _record(texts: Iterable[Text], to: str) -> str:
    """The messages that send these texts, as the worker pins them: JSON, which a retry and a
    later call with the same key send instead of texts of their own. No message when they are
    more than Twilio can send or a record can hold: a final error, logged and counted."""
    sendable = [Text(_sendable(text.body), tuple(map(_sendable, text.media))) for text in texts]
    length = sum(characters(text.body) for text in sendable)
    if length > MAX_TEXT_LENGTH:  # more messages than allowed, however it is cut: not cut
        pieces, needed = [], -(-length // MAX_MESSAGE_LENGTH)
    else:
        pieces = messages_of(sendable)
        needed = len(pieces)
    if needed > MAX_MESSAGES:
        return _too_large(
            f"text not sent: longer than {MAX_MESSAGES} messages of 1,600 characters",
            {"messages": needed, "to": _shown(to)},
        )
    record = json.dumps([[piece.body, list(piece.media)] for piece in pieces], ensure_ascii=False)
    size = len(_stored(record).encode())
    if size > MAX_RECORD_SIZE:
        return _too_large(
            "text not sent: too large to record", {"record_bytes": size, "to": _shown(to)}
        )
    return record


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


def run_locally(job: Job) -> None:
    """A job run on this machine (no queue): its failure is logged, as the worker's would be."""
    try:
        run_job(job)
    except Exception as error:
        _failed(error)


def _send_once(key: str, outgoing: Outgoing) -> None:
    try:
        _once(key, lambda: _attempt(outgoing))
    except RefusedError as refused:  # done: retrying would not help
        _count_failure(refused)
        logger.error(
            "text not sent: Twilio refused it",
            extra={"error_code": refused.code, "to": _shown(outgoing.to)},
        )
    except RetryableError as error:
        _count_failure(error)
        logger.warning(
            "text not sent yet: the job is retried",
            extra={"error_code": error.code, "to": _shown(outgoing.to)},
        )
        raise


def _attempt(outgoing: Outgoing) -> str:
    """`deliver`, where a text Twilio may have taken without saying so counts as sent: one text
    lost, and logged, rather than the same text twice."""
    try:
        return deliver(outgoing)
    except UnansweredError as error:
        _count_failure(error)
        logger.error(
            f"text may not have been sent: {UNANSWERED[error.code]}",
            extra={"error_code": error.code, "to": _shown(outgoing.to)},
        )
        return "unknown"


def _count_failure(error: TwilioError) -> None:
    count("LaterRepliesFailed", ErrorCode=error.counted_as)


def deliver(outgoing: Outgoing) -> str:
    """Send it: with twilio's REST client, or into the local outbox when `OUTBOX_FILE` is set (a
    local run, which never reaches Twilio). The message's sid."""
    outbox = outbox_file()
    sid = _to_outbox(outbox, outgoing) if outbox else _to_twilio(outgoing)
    logger.info("text sent", extra={"to": _shown(outgoing.to), "message_sid": sid})
    count("LaterRepliesSent")
    return sid


Listener = Callable[[Outgoing], None]
local_listeners: list[Listener] = []
"""Who is told of each text put in the local outbox: `make run` and `make chat` print it, the
test phone collects it."""


def _to_outbox(outbox: str, outgoing: Outgoing) -> str:
    """A JSON line appended to the outbox, a file of yours alone in a folder of your own (see
    `local_files`): it holds numbers and texts."""
    from sms_webhook.local_files import open_private  # local runs only

    sid = f"SM{time.time_ns():032x}"[:34]
    line = {**outgoing._asdict(), "sid": sid, "at": round(time.time(), 3)}
    descriptor = open_private(outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with open(descriptor, "a", encoding="utf-8") as written:
        written.write(json.dumps(line, ensure_ascii=False) + "\n")
    for listener in local_listeners:
        listener(outgoing)
    return sid


def _to_twilio(outgoing: Outgoing) -> str:
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException, TwilioServiceException
    from twilio.rest import Client

    username, password = _credentials(outgoing.account_sid)
    client = Client(username, password, outgoing.account_sid, http_client=http_client())
    sender = {
        "messaging_service_sid" if outgoing.sender.startswith("MG") else "from_": outgoing.sender
    }
    extra: dict[str, object] = {"media_url": list(outgoing.media)} if outgoing.media else {}
    if outgoing.body:  # a message of media alone has no body
        extra["body"] = outgoing.body
    try:
        sent = client.messages.create(
            to=outgoing.to,
            status_callback=outgoing.status_callback,
            **sender,
            **extra,
        )
    except (TwilioRestException, TwilioServiceException) as error:  # Twilio's error answer
        raise _classified(error.status, error.code) from None
    except RequestException as error:
        if _nothing_sent(error):
            raise RetryableError("network") from None
        raise UnansweredError("timeout") from None
    except (ValueError, AttributeError):  # a 2xx whose body is no JSON object: sent, maybe
        raise UnansweredError("unreadable") from None
    if not isinstance(sent.sid, str):  # a 2xx that names no message (an empty body)
        raise UnansweredError("unreadable")
    sid: str = sent.sid
    return sid


def _nothing_sent(error: Exception) -> bool:
    """Whether the request failed before Twilio could have read it: no connection was made."""
    from requests.exceptions import ConnectTimeout, SSLError
    from urllib3.exceptions import NewConnectionError

    if isinstance(error, ConnectTimeout | SSLError):  # no HTTP byte sent before the handshake
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


HTTP_TIMEOUT = 10.0
"""Seconds twilio's client waits for Twilio's API to connect, and then to answer."""


@cache
def http_client() -> Any:
    """twilio's HTTP client, one per container: its connections are kept between messages."""
    from twilio.http.http_client import TwilioHttpClient

    return TwilioHttpClient(timeout=HTTP_TIMEOUT)


def _credentials(account_sid: str) -> tuple[str, str]:
    """The API key when one is configured, else the account's auth token (the current one)."""
    return api_key() or (account_sid, auth_tokens()[0])


def _classified(status: int | None, code: object) -> TwilioError:
    """A refusal of the recipient is final; anything else (an outage, throttling, a rejected key,
    a wrong account) may be mended, by time or by whoever runs the stack: the job is retried."""
    status = int(status or 0)
    code = str(code or ("20429" if status == HTTPStatus.TOO_MANY_REQUESTS else status))
    return RefusedError(code, status) if code in REFUSALS else RetryableError(code, status)


def _sending_account(job: Job) -> tuple[str, str]:
    """The account and the sender of a text sent first: the stack's, else those of the message
    answered when it was sent; a sender's channel (`whatsapp:`) follows the recipient's."""
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip() or job.get("account_sid")
    sender = os.environ.get("SEND_FROM", "").strip() or job.get("sender")
    if not (account_sid and sender):
        raise ConfigurationError(
            "a text sent from a script needs the stack's TwilioAccountSid and SendFrom"
        )
    if sender.startswith("MG"):  # a Messaging Service serves every channel
        return account_sid, sender
    channel, colon, _ = job["to"].rpartition(":")
    return account_sid, f"{channel}{colon}{sender.rpartition(':')[2]}"


def _once(key: str, make: Callable[[], str], invocation: Any = None) -> str:
    """`make()`, once per key while the record lasts; without a table (a local run), every time.
    A run cut off keeps its key taken for good, so that nothing it may have sent is sent again,
    unless `invocation` is given: then the key is free again once that invocation is over."""
    table = idempotency_table()
    if table:
        return idempotent_runner(table)(key, make, invocation)
    if not outbox_file():
        raise ConfigurationError(
            "later replies need the deduplication table (deploy with Idempotency=Enabled): "
            "without it a reply could be sent twice"
        )
    return make()


Runner = Callable[[str, Callable[[], str], Any], str]


@cache
def idempotent_runner(table: str) -> Runner:
    """Powertools' idempotent wrapper, whose in-progress records expire with the invocation given
    (Powertools' own rule for a Lambda handler), or never without one."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    class CompactRecords(DynamoDBPersistenceLayer):
        """Powertools' records, what they hold stored as `_stored` says."""

        def _update_record(self, data_record: DataRecord) -> None:
            data_record.response_data = _stored(json.loads(data_record.response_data))
            super()._update_record(data_record)

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=RECORD_EXPIRY)
    store = CompactRecords(table_name=table, boto3_client=aws.client("dynamodb"))
    # Powertools warns when no Lambda context says when a run in progress expires: on purpose.
    warnings.filterwarnings("ignore", "Couldn't determine the remaining time left", UserWarning)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="record",
        persistence_store=store,
        config=config,
        key_prefix="later-replies",  # the records outlive a rename of this code or the function
    )
    def once(record: dict[str, str], make: Callable[[], str]) -> str:
        return make()

    def run(key: str, make: Callable[[], str], invocation: Any) -> str:
        config.register_lambda_context(invocation)
        made: str = once(record={"key": key}, make=make)
        return made

    return run


def _stored(value: object) -> str:
    """What a record holds as DynamoDB stores it: JSON in UTF-8. Powertools' own JSON escapes
    every character past ASCII: a Japanese character took 6 bytes, 7 in a reply recorded as a
    JSON string, where UTF-8 takes 3."""
    return json.dumps(value, ensure_ascii=False)


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


def _failed(error: Exception) -> None:
    """The error's type and where it was raised; the text of this project's own errors, which
    say what to mend (others' may hold what a message said)."""
    details = {"error": type(error).__name__, "at": raised_at(error)}
    if isinstance(error, UnrunnableJobError | ConfigurationError):
        details["reason"] = str(error)
    logger.error("later reply failed", extra=details)


def _shown(address: str) -> str:
    """The recipient as logs show senders: a pseudonym, never the number."""
    try:
        secret = auth_tokens()[0]
    except Exception:  # a pseudonym keyed on nothing secret could be reversed: none
        return "unknown"
    return pseudonym(address, secret)
