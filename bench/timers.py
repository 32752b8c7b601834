"""What setting a reminder costs the code that sets it: one EventBridge Scheduler CreateSchedule
(`send_text(..., at=timedelta(hours=1))`), against a moto server on loopback."""

import marshal
import statistics
from typing import TypedDict

import boto3

from bench.contenders import WORK, environment, run_project_driver
from bench.moto_server import AWS_CREDENTIALS, client_options, create_idempotency_table, moto_server
from devtools.twilio_message import ACCOUNT_SID, TWILIO_NUMBER

ROLE_ARN = "arn:aws:iam::123456789012:role/bench-SchedulerRole"
"""The role the schedules name (moto checks none)."""
TABLE = "timers-idempotency"
"""The deduplication table a stack with a queue has (moto keeps one state per benchmark run, which
the other parts' tables are in too)."""


class TimerFigures(TypedDict):
    calls: int
    """Reminders set, every process's first included."""
    schedules: int
    """Schedules found in the processes' groups afterwards: one per reminder."""
    processes: int
    first_ms: float
    """A process's first: boto3 imported, the Scheduler's client made, one call (the median)."""
    median_ms: float
    """Every other call's."""
    p95_ms: float


def measure_timers(rounds: int, loops: int) -> TimerFigures:
    """A reminder set, in fresh processes each with a schedule group of its own: a first, then
    `loops` more, each timed."""
    result_file = WORK / "project.timers"
    firsts: list[float] = []
    others: list[float] = []
    schedules = 0
    with moto_server() as endpoint:
        sqs = boto3.client("sqs", **client_options(endpoint))
        scheduler = boto3.client("scheduler", **client_options(endpoint))
        queue, dead_letters = (
            sqs.create_queue(QueueName=name)["QueueUrl"]
            for name in ("timers-later-replies", "timers-dead-letters")
        )
        queue_arn, dead_letter_arn = (
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            for url in (queue, dead_letters)
        )
        create_idempotency_table(endpoint, TABLE)
        processes = max(1, rounds // 3)
        for process in range(processes):
            group = f"timers-{process}"
            scheduler.create_schedule_group(Name=group)
            env = environment(
                LATER_QUEUE_URL=queue,
                IDEMPOTENCY_TABLE=TABLE,
                SCHEDULE_GROUP=group,
                SCHEDULER_ROLE_ARN=ROLE_ARN,
                LATER_QUEUE_ARN=queue_arn,
                DEAD_LETTER_QUEUE_ARN=dead_letter_arn,
                AWS_ENDPOINT_URL_SCHEDULER=endpoint,
                # A script's reminder goes out as the stack's SendFrom, checked when it is set.
                SEND_FROM=TWILIO_NUMBER,
                TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                **AWS_CREDENTIALS,
            )
            run_project_driver("timers.py", [str(loops), result_file], env)
            first, each = marshal.loads(result_file.read_bytes())
            firsts.append(first)
            others.extend(each)
            pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
            schedules += sum(len(page["Schedules"]) for page in pages)
    return {
        "calls": len(firsts) + len(others),
        "schedules": schedules,
        "processes": processes,
        "first_ms": statistics.median(firsts),
        "median_ms": statistics.median(others),
        "p95_ms": percentile_95(others),
    }


def percentile_95(values: list[float]) -> float:
    """The value 95% of them are at most (interpolated between the two nearest)."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if values[1:] else values[0]
