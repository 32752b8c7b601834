"""The worker: runs the jobs `sms_webhook/later.py` queued, and sends what they say with twilio's
REST client.

A job is a later handler's run on a message (its reply goes to the sender, from the number the
message was sent to, or its Messaging Service) or a text sent first (from `SEND_FROM`). Each
message sent asks for delivery reports on `/status`.

SQS delivers a job at least once, and a worker may crash after Twilio took a message and before
the job is acknowledged. So, with Powertools Idempotency on the deduplication table, a later
handler runs once per `MessageSid` (its reply is recorded) and each message is sent once per key:
a crash mid-send leaves that key "in progress" for good, and the job, retried, ends in the
dead-letter queue rather than texting the sender twice.

Twilio's refusals that retrying cannot mend (an unsubscribed recipient, an invalid number...) are
logged with their code, counted, and the job is done; a 429, a 5xx or a network failure makes
the job fail, and SQS brings it back after a backoff, up to the queue's limit, then to the
dead-letter queue. Only the worker imports this module: the webhook's artifact holds no REST
client.
"""

import json
import os
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple

from sms_webhook import aws
from sms_webhook.config import ConfigurationError, api_key, auth_tokens, idempotency_table
from sms_webhook.form import FormFields
from sms_webhook.later import HANDLERS, Job
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import count, logger, pseudonym
from sms_webhook.twiml import split_message

ERROR_CODES = frozenset(
    {"20003", "20429", "21211", "21408", "21610", "21612", "21614", "63016", "5xx", "network"}
)
"""How `LaterRepliesFailed` is broken down: Twilio's error codes a sender meets, its server
errors, no answer at all; anything else is counted as `other`."""

FIRST_BACKOFF = 30
"""Seconds before a failed job's first retry; each next one waits twice as long."""
LONGEST_BACKOFF = 900

RECORD_EXPIRY = 24 * 60 * 60
"""How long a reply and a send are remembered: longer than SQS keeps retrying a job."""


class TwilioError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        """Twilio's error code, `5xx` for its server errors, `network` when it did not answer."""


class RetryableError(TwilioError):
    """Twilio could not take the message now (429, 5xx, the network): try the job again later."""


class RefusedError(TwilioError):
    """Twilio refused the message for good (its error code): retrying would not change that."""


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

    aws.start_request(context.get_remaining_time_in_millis(), budget=None)

    def run(record: Any) -> None:
        try:
            run_job(json.loads(record.body))
        except Exception as error:
            _failed(error)
            _back_off(record.receipt_handle, int(record.attributes.approximate_receive_count))
            raise

    # Every record failed is no error of the worker's: each is retried, as when some fail.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=run, processor=processor, context=context
    )


def run_job(job: Job) -> None:
    """Run one job: a later handler and its reply, or a text sent first."""
    if job["job"] == "reply":
        message = IncomingMessage.from_fields(FormFields.from_pairs(job["fields"]))
        run = HANDLERS.get(job["route"])
        if run is None:  # replies.py changed between the message and its job
            raise LookupError(f"no handler runs later as {job['route']}: renamed since queued?")
        texts = json.loads(_once(f"reply {message.sid}", lambda: json.dumps(run(message))))
        sender = message.fields.get("MessagingServiceSid") or message.to_number
        pieces = [piece for text in texts for piece in split_message(text)]
        for index, piece in enumerate(pieces):
            outgoing = Outgoing(
                message.account_sid,
                message.from_number,
                sender,
                piece,
                (),
                job["status_callback"],
            )
            _send_once(f"sent {message.sid} {index}", outgoing)
    elif job["job"] == "text":
        account_sid, sender = _sending_account()
        outgoing = Outgoing(
            account_sid,
            job["to"],
            sender,
            job["body"],
            tuple(job["media"]),
            job["status_callback"],
        )
        _send_once(f"text {job['key']}", outgoing)
    else:
        raise ValueError(f"not a job: {job['job']!r}")


def run_locally(job: Job) -> None:
    """A job run on this machine (no queue): its failure is logged, as the worker's would be."""
    try:
        run_job(job)
    except Exception as error:
        _failed(error)


def _send_once(key: str, outgoing: Outgoing) -> None:
    try:
        _once(key, lambda: deliver(outgoing))
    except RefusedError as refused:  # done: retrying would not help
        _count_failure(refused.code)
        logger.error(
            "text not sent: Twilio refused it",
            extra={"error_code": refused.code, "to": _shown(outgoing.to)},
        )
    except RetryableError as error:
        _count_failure(error.code)
        raise


def _count_failure(code: str) -> None:
    count("LaterRepliesFailed", ErrorCode=code if code in ERROR_CODES else "other")


def deliver(outgoing: Outgoing) -> str:
    """Send it: with twilio's REST client, or into the local outbox when `OUTBOX_FILE` is set (a
    local run, which never reaches Twilio). The message's sid."""
    outbox = os.environ.get("OUTBOX_FILE", "").strip()
    sid = _to_outbox(outbox, outgoing) if outbox else _to_twilio(outgoing)
    logger.info("text sent", extra={"to": _shown(outgoing.to), "message_sid": sid})
    count("LaterRepliesSent")
    return sid


Listener = Callable[[Outgoing], None]
local_listeners: list[Listener] = []
"""Who is told of each text put in the local outbox: `make run` and `make chat` print it, the
test phone collects it."""


def _to_outbox(outbox: str, outgoing: Outgoing) -> str:
    sid = f"SM{time.time_ns():032x}"[:34]
    line = {**outgoing._asdict(), "sid": sid, "at": round(time.time(), 3)}
    with open(outbox, "a", encoding="utf-8") as written:
        written.write(json.dumps(line, ensure_ascii=False) + "\n")
    for listener in local_listeners:
        listener(outgoing)
    return sid


def _to_twilio(outgoing: Outgoing) -> str:
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client

    username, password = _credentials(outgoing.account_sid)
    client = Client(username, password, outgoing.account_sid, http_client=http_client())
    sender = {
        "messaging_service_sid" if outgoing.sender.startswith("MG") else "from_": outgoing.sender
    }
    extra = {"media_url": list(outgoing.media)} if outgoing.media else {}
    try:
        sent = client.messages.create(
            to=outgoing.to,
            body=outgoing.body,
            status_callback=outgoing.status_callback,
            **sender,
            **extra,
        )
    except TwilioRestException as error:
        raise _classified(error) from None
    except RequestException:  # no answer from Twilio: it may not have taken the message
        raise RetryableError("network") from None
    sid: str = sent.sid
    return sid


HTTP_TIMEOUT = 10.0
"""Seconds twilio's client waits for Twilio's API: then the job is retried."""


@cache
def http_client() -> Any:
    """twilio's HTTP client, one per container: its connections are kept between messages."""
    from twilio.http.http_client import TwilioHttpClient

    return TwilioHttpClient(timeout=HTTP_TIMEOUT)


def _credentials(account_sid: str) -> tuple[str, str]:
    """The API key when one is configured, else the account's auth token (the current one)."""
    return api_key() or (account_sid, auth_tokens()[0])


def _classified(error: Any) -> TwilioError:
    status, code = int(error.status or 0), str(error.code or "")
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return RetryableError("5xx")
    if status == HTTPStatus.TOO_MANY_REQUESTS or code == "20429":
        return RetryableError("20429")
    return RefusedError(code or str(status))


def _sending_account() -> tuple[str, str]:
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
    sender = os.environ.get("SEND_FROM", "").strip()
    if not (account_sid and sender):
        raise ConfigurationError("texts sent first need TWILIO_ACCOUNT_SID and SEND_FROM")
    return account_sid, sender


def _once(key: str, make: Callable[[], str]) -> str:
    """`make()`, once per key while the record lasts; without a table (a local run), every time."""
    table = idempotency_table()
    return make() if not table else idempotent_runner(table)(key, make)


@cache
def idempotent_runner(table: str) -> Callable[[str, Callable[[], str]], str]:
    """Powertools' idempotent wrapper without an in-progress expiry: a run that crashed keeps its
    key taken, so that nothing it may have sent is sent again."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=RECORD_EXPIRY)
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.client("dynamodb"))
    # Powertools warns that no Lambda context says when a run in progress expires: on purpose.
    warnings.filterwarnings("ignore", "Couldn't determine the remaining time left", UserWarning)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="record", persistence_store=store, config=config
    )
    def once(record: dict[str, str], make: Callable[[], str]) -> str:
        return make()

    def run(key: str, make: Callable[[], str]) -> str:
        made: str = once(record={"key": key}, make=make)
        return made

    return run


def _back_off(receipt_handle: str, receive_count: int) -> None:
    """Make the job visible again after a delay that doubles with each attempt."""
    delay = min(LONGEST_BACKOFF, FIRST_BACKOFF * 2 ** max(0, receive_count - 1))
    queue = os.environ.get("LATER_QUEUE_URL", "").strip()
    if not queue:  # a local run of the worker: no queue to hide the job on
        return
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queue, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
    except Exception as error:  # the queue's own visibility timeout applies instead
        logger.warning("backoff not set", extra={"reason": type(error).__name__})


def _failed(error: Exception) -> None:
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
    logger.error("later reply failed", extra={"error": type(error).__name__, "at": where})


def _shown(address: str) -> str:
    """The recipient as logs show senders: a pseudonym, never the number."""
    try:
        secret = auth_tokens()[0]
    except Exception:  # no token here: the pseudonym is then keyed on nothing secret
        secret = ""
    return pseudonym(address, secret)
