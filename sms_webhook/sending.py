"""The worker: runs the jobs `sms_webhook/later.py` queued, and sends what they say with twilio's
REST client.

A job is a later handler's run on a message (its reply goes to the sender, from the number the
message was sent to, or its Messaging Service) or a text sent first (from `SEND_FROM`, else from
the number of the message answered when it was sent). Each message sent asks for delivery
reports on `/status`.

SQS delivers a job at least once, and a worker may crash after Twilio took a message and before
the job is acknowledged. So, with Powertools Idempotency on the deduplication table, a later
handler runs once per `MessageSid` (its reply is recorded; a run the worker did not finish, cut
off at its timeout, is run again by the job's retry) and each message is sent once per key: a
crash mid-send leaves that key "in progress" for good, and the job, retried, ends in the
dead-letter queue rather than texting the sender twice.

Twilio's refusals of a recipient, which retrying cannot mend (an unsubscribed recipient, an
invalid number...), are logged with their code, counted, and the job is done. Any other error (a
429, a 5xx, a connection refused, a rejected key) makes the job fail, and SQS brings it back
after a backoff, up to the queue's limit, then to the dead-letter queue. A request Twilio got but
did not answer in time may have been sent: it is recorded as sent, never sent again, and logged.
Only the worker imports this module: the webhook's artifact holds no REST client.
"""

import json
import os
import time
import warnings
from collections.abc import Callable, Mapping
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
from sms_webhook.twiml import Text, messages_of

REFUSALS = frozenset({"21211", "21610", "21612", "21614", "21617", "63016"})
"""Twilio's refusals of one recipient or text (an invalid or unsubscribed number, a landline, a
WhatsApp session closed...): another attempt would be refused again. A region not enabled
(21408) is not one of them: whoever runs the account can enable it, then replay the job."""

ERROR_CODES = REFUSALS | {"20003", "20429", "21408", "5xx", "network", "timeout"}
"""How `LaterRepliesFailed` is broken down: Twilio's codes a sender meets, its server errors, no
connection to it (`network`), no answer in time (`timeout`); anything else is `other`."""

FIRST_BACKOFF = 30
"""Seconds before a failed job's first retry; each next one waits twice as long."""
LONGEST_BACKOFF = 900

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
    """Twilio got the request and did not answer in time: the message may have been sent."""


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
    if job["job"] == "reply":
        message = IncomingMessage.from_fields(FormFields.from_pairs(job["fields"]))
        run = HANDLERS.get(job["route"])
        if run is None:  # replies.py changed between the message and its job
            raise UnrunnableJobError(f"no handler runs later as {job['route']}: renamed?")

        def reply() -> str:
            with answering(message, job["status_callback"]):  # for the texts it sends first
                return json.dumps(run(message))

        replied = _once(f"reply {message.sid}", reply, invocation)
        texts = [Text(body, tuple(media)) for body, media in json.loads(replied)]
        account_sid, to, key = message.account_sid, message.from_number, f"sent {message.sid}"
        sender = reply_sender(message)
    elif job["job"] == "text":
        account_sid, sender = _sending_account(job)
        texts = [Text(job["body"], tuple(job["media"]))]
        to, key = job["to"], f"text {job['to']} {job['key']}"  # a key may serve several
    else:
        raise ValueError(f"not a job: {job['job']!r}")
    for index, piece in enumerate(messages_of(texts)):
        outgoing = Outgoing(
            account_sid, to, sender, piece.body, tuple(piece.media), job["status_callback"]
        )
        _send_once(f"{key} {index}", outgoing)


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
            "text may not have been sent: Twilio did not answer in time",
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
    except (TwilioRestException, TwilioServiceException) as error:
        raise _classified(error.status, error.code) from None
    except RequestException as error:
        if _nothing_sent(error):
            raise RetryableError("network") from None
        raise UnansweredError("timeout") from None
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

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=RECORD_EXPIRY)
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.client("dynamodb"))
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
