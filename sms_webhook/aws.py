"""AWS clients that give up in time, so that every request gets its answer within seconds.

Twilio waits 15 s for an answer, and a request the function has not answered when its own
timeout strikes is lost. SSM and DynamoDB can fail slowly: a connection accepted and never
answered. So each attempt of an AWS call gives up after `CONNECT_TIMEOUT` to connect and
`READ_TIMEOUT` to read, an API call makes at most `ATTEMPTS` attempts, and no attempt starts unless
it can end before the request's AWS deadline: `AWS_BUDGET` after the request arrived, or
`ANSWER_MARGIN` before the invocation runs out of time, whichever comes first. A hanging service
then costs a request at most `AWS_BUDGET`, and the request gets the answer the README documents
for that service failing.

boto3 is imported on first use only: a function given its token in the environment never pays
for it.
"""

import math
import time
from functools import cache
from typing import Any

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.0
ATTEMPTS = 2
"""Attempts per API call: the first, and one retry."""
AWS_BUDGET = 4.0
"""Seconds after a request arrives by which every AWS call it makes has ended."""
ANSWER_MARGIN = 1.0
"""Seconds kept, at the least, between the AWS deadline and the invocation's own timeout."""

_deadline = math.inf


class OutOfTimeError(Exception):
    """An AWS call was not attempted: it could not end before the request's deadline."""


def start_request(remaining_millis: int) -> None:
    """Set the AWS deadline of the request that arrived now, given the invocation's time left."""
    global _deadline  # one request at a time per Lambda instance
    budget = min(AWS_BUDGET, remaining_millis / 1000 - ANSWER_MARGIN)
    _deadline = time.monotonic() + budget


@cache
def client(service: str) -> Any:
    """The service's boto3 client, made once per container, whose attempts respect the deadline."""
    import boto3
    from botocore.config import Config

    quick = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
    )
    made = boto3.client(service, config=quick)  # type: ignore[call-overload]  # stubs want a literal name
    made.meta.events.register_first("before-send", _reject_attempts_past_the_deadline)
    return made


def _reject_attempts_past_the_deadline(**_: Any) -> None:
    """Raised here, the error ends the API call at once: botocore retries only its own errors."""
    if time.monotonic() + CONNECT_TIMEOUT + READ_TIMEOUT > _deadline:
        raise OutOfTimeError("no time left in this request for another AWS call")
