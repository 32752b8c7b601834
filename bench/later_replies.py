"""What a handler that runs later adds to the webhook's answer: one SQS send, and on the first,
making the SQS client (a moto server's queue on loopback)."""

import marshal
import statistics
from typing import NamedTuple, TypedDict

import boto3

from bench.contenders import WORK, environment, run_project_driver, write_events
from bench.events import BODIES, LATER_BODIES, messages_each_loop
from bench.moto_server import AWS_CREDENTIALS, client_options, create_idempotency_table, moto_server


class LaterRun(NamedTuple):
    """What bench/drivers/later.py found in one process."""

    statuses: list[int]
    first_later_ms: float
    ordinary_ms: float
    later_ms: float


class LaterFigures(TypedDict):
    answers: list[int]
    queued: int
    later_answered: int
    loops: int
    ordinary_ms: float
    later_ms: float
    first_later_ms: float
    added_ms: float
    first_added_ms: float


def measure_later(rounds: int, loops: int) -> LaterFigures:
    """What a handler that runs later adds to the webhook's answer, in fresh processes sending to
    a queue of a moto server on loopback: warm, one SQS send; the first, making the client. Both
    kinds of message are deduplicated in a table of the same server, as a stack with a queue
    always does: the difference is the send.

    Each process has a queue and a table of its own, and a tenth of the loops: moto's SendMessage
    takes longer the more messages its queue holds (7 ms at first, 14 ms after 400, here)."""
    loops = max(1, loops // 10)
    later = messages_each_loop(LATER_BODIES, loops)
    ordinary = messages_each_loop(BODIES, loops)
    events = write_events(WORK / "later.marshal", (ordinary, later))
    result_file = WORK / "project.later"
    results: list[LaterRun] = []
    queued = 0
    with moto_server() as endpoint:
        sqs = boto3.client("sqs", **client_options(endpoint))
        for process in range(max(1, rounds // 3)):
            queue = sqs.create_queue(QueueName=f"later-replies-{process}")["QueueUrl"]
            table = f"idempotency-{process}"
            create_idempotency_table(endpoint, table)
            env = environment(
                LATER_QUEUE_URL=queue,
                AWS_ENDPOINT_URL_SQS=endpoint,
                IDEMPOTENCY_TABLE=table,
                AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                **AWS_CREDENTIALS,
            )
            run_project_driver("later.py", [events, result_file], env)
            results.append(LaterRun(*marshal.loads(result_file.read_bytes())))
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            queued += int(attributes["ApproximateNumberOfMessages"])
    ordinary_ms = statistics.median(r.ordinary_ms for r in results)
    later_ms = statistics.median(r.later_ms for r in results)
    first_later_ms = statistics.median(r.first_later_ms for r in results)
    return {
        "answers": sorted({status for r in results for status in r.statuses}),
        "queued": queued,
        "later_answered": len(results) * (1 + loops * len(LATER_BODIES)),
        "loops": loops,
        "ordinary_ms": ordinary_ms,
        "later_ms": later_ms,
        "first_later_ms": first_later_ms,
        "added_ms": later_ms - ordinary_ms,
        "first_added_ms": first_later_ms - ordinary_ms,
    }
