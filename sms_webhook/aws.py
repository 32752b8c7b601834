"""AWS clients that give up in time, so that every request gets its answer within seconds.

Twilio waits 15 s for an answer, and a request the function has not answered when its own
timeout strikes is lost. SSM and DynamoDB can fail slowly: a connection accepted and never
answered. So each attempt of an AWS call gives up after its service's `PATIENCE` (to connect, to
read), an API call makes at most that many attempts, and no attempt starts unless it can end before
the request's AWS deadline: `AWS_BUDGET` after the request arrived, or `ANSWER_MARGIN` before the
invocation runs out of time, whichever comes first. A hanging service then costs a request at most
`AWS_BUDGET`, and the request gets the answer the docs give for that service failing.

boto3 is imported on first use only: a function given its token in the environment never pays
for it.
"""

import math
import time
from dataclasses import dataclass
from functools import cache
from typing import Any


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
}

AWS_BUDGET = 4.0
"""Seconds after a request arrives by which every AWS call it makes has ended."""
ANSWER_MARGIN = 1.0
"""Seconds kept, at the least, between the AWS deadline and the invocation's own timeout."""

_deadline = math.inf


class OutOfTimeError(Exception):
    """An AWS call was not attempted: it could not end before the request's deadline."""


def start_request(remaining_millis: int, budget: float | None = AWS_BUDGET) -> None:
    """Set the AWS deadline of the request that arrived now, given the invocation's time left:
    `budget` seconds, or with None (the worker, which has minutes) all the time left."""
    global _deadline  # one request at a time per Lambda instance
    left = remaining_millis / 1000 - ANSWER_MARGIN
    _deadline = time.monotonic() + (left if budget is None else min(budget, left))


@cache
def client(service: str) -> Any:
    """The service's boto3 client, made once per container, whose attempts respect the deadline."""
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
        if time.monotonic() + longest_attempt > _deadline:
            raise OutOfTimeError("no time left in this request for another AWS call")

    made.meta.events.register_first("before-send", reject_attempts_past_the_deadline)
    return made
