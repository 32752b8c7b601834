"""AWS clients that give up in time, so that every request gets its answer within seconds.

Twilio waits 15 s for an answer, and a request the function has not answered when its own
timeout strikes is lost. SSM and DynamoDB can fail slowly: a connection accepted and never
answered. So each attempt of an AWS call gives up after its service's `PATIENCE` (to connect, to
read), an API call makes at most that many attempts, and no attempt starts unless it can end
before the deadline of the part of the request it belongs to (`sms_webhook/deadlines.py`). A
hanging service then costs a request seconds, and the request gets the answer the docs give for
that service failing.

boto3 is imported on first use only: a function given its token in the environment never pays
for it.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sms_webhook import deadlines


@dataclass(frozen=True)
class Patience:
    connect: float
    """Seconds an attempt may take to connect."""
    read: float
    """Seconds an attempt may wait for each read of the answer."""
    attempts: int
    """Attempts per API call."""


PATIENCE = {
    "ssm": Patience(connect=1.0, read=1.0, attempts=2),
    # One attempt: DynamoDB's writes here are conditional, and a write whose answer was lost to
    # the timeout has been made; retried, it would fail on itself (as a duplicate of the message).
    "dynamodb": Patience(connect=1.0, read=2.0, attempts=1),
    # Two attempts: a job queued twice is run once (the worker's records see to it).
    "sqs": Patience(connect=1.0, read=2.0, attempts=2),
    # Two attempts: a schedule is named for what it does, and one made twice is refused as a
    # conflict, which means it is there.
    "scheduler": Patience(connect=1.0, read=2.0, attempts=2),
}


class OutOfTimeError(Exception):
    """An AWS call was not attempted: it could not end before the request's deadline."""


@cache
def client(service: str) -> Any:
    """The service's boto3 client, made once per container, whose attempts respect the deadline.

    Importing boto3 and building a client is this machine's own work, seconds on a busy one: it
    does not count against the time the request may wait on AWS (`deadlines.extend`)."""
    started = deadlines.monotonic()
    import boto3
    from botocore.config import Config

    patience = PATIENCE[service]
    quick = Config(
        connect_timeout=patience.connect,
        read_timeout=patience.read,
        retries={"mode": "standard", "total_max_attempts": patience.attempts},
    )
    made = boto3.client(service, config=quick)  # type: ignore[call-overload]  # stubs want a literal name
    longest_attempt = patience.connect + patience.read

    def reject_attempts_past_the_deadline(**_: Any) -> None:
        """Raised here, the error ends the API call at once: botocore retries only its own."""
        if longest_attempt > deadlines.seconds_left():
            raise OutOfTimeError("no time left in this request for another AWS call")

    made.meta.events.register_first("before-send", reject_attempts_past_the_deadline)
    deadlines.extend(deadlines.monotonic() - started)
    return made
