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


def sqs_event(
    bodies: Iterable[str], receive_count: int = 1, message_ids: Iterable[str] | None = None
) -> Event:
    """The event of a batch of queue messages with these bodies, each received that many times;
    their ids are `message_ids` when given (a sample written again stays the same), else new."""
    bodies = list(bodies)
    ids = list(message_ids) if message_ids is not None else [str(uuid.uuid4()) for _ in bodies]
    return {
        "Records": [
            _record(body, receive_count, message_id)
            for body, message_id in zip(bodies, ids, strict=True)
        ]
    }


def _record(body: str, receive_count: int, message_id: str) -> Event:
    record = copy.deepcopy(_shape())
    record["messageId"] = message_id
    record["receiptHandle"] = f"{record['receiptHandle']}{record['messageId']}"
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


@cache
def _shape() -> Event:
    shape: Event = json.loads(SQS_RECORD.read_text())
    return shape
