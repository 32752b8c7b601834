"""The events Lambda makes of the later-replies queue's messages, in the shape AWS documents for
an SQS event source: for the tests, `make invoke` and the sample event."""

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

Event = dict[str, Any]

SQS_RECORD = Path(__file__).parent / "events" / "sqs.json"
"""One record of an SQS event, as AWS documents it."""


def sqs_event(bodies: Iterable[str], receive_count: int = 1) -> Event:
    """The event of a batch of queue messages with these bodies, each received that many times."""
    return {"Records": [_record(body, receive_count) for body in bodies]}


def _record(body: str, receive_count: int) -> Event:
    record = copy.deepcopy(_shape())
    record["messageId"] = str(uuid.uuid4())
    record["receiptHandle"] = f"{record['receiptHandle']}{record['messageId']}"
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


@cache
def _shape() -> Event:
    shape: Event = json.loads(SQS_RECORD.read_text())
    return shape
