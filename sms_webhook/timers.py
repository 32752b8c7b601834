"""Timers: jobs that wait for their time. A reminder (`send_text(..., at=)`) and a question's
deadline (`Conversation.expect`) are jobs (`sms_webhook/jobs.py`) like the others, put on the
later-replies queue when they are due, so that the worker runs them as it runs the rest: once,
retried, and into the dead-letter queue when they keep failing.

Deployed, a timer is an EventBridge Scheduler one-time schedule in the stack's group, named for
what it does (`reminder-<hash of recipient and key>`, `deadline-<expectation>`): setting the same
one twice sets it once, and it can be withdrawn by its name. When due, the Scheduler puts the job
on the queue, retrying for a day, else into the dead-letter queue, and deletes the schedule.
Without a queue (a local run), the local clock holds it (`sms_webhook/local_clock.py`).

Setting a timer is one API call, made while the handler runs: when the Scheduler cannot be
reached, `NotScheduledError`, and the webhook answers 503 rather than promise what will not come.
"""

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sms_webhook import aws, local_clock, origin
from sms_webhook.config import ConfigurationError, later_queue
from sms_webhook.jobs import Job, NotScheduledError, encode
from sms_webhook.telemetry import count, logger

SOONEST = timedelta(minutes=1)
"""A timer goes off a minute ahead at the soonest: the Scheduler's precision. Sooner: send now."""
LATEST = timedelta(days=365)
"""A timer goes off a year ahead at the latest."""
SLACK = 5.0
"""Seconds a time given as a datetime may fall short of `SOONEST` when it is checked: "a minute
from now", computed a moment before."""
DELIVERY_RETRIES = {"MaximumEventAgeInSeconds": 24 * 60 * 60, "MaximumRetryAttempts": 185}
"""How long the Scheduler keeps trying to put a due job on the queue (the most it allows), before
the job goes to the dead-letter queue."""


class TimerSettings(NamedTuple):
    """Where a deployed stack's timers wait (EventBridge Scheduler), and where they go when due."""

    group: str
    """The stack's schedule group (`SCHEDULE_GROUP`)."""
    role_arn: str
    """The role the Scheduler sends with (`SCHEDULER_ROLE_ARN`)."""
    queue_arn: str
    """The later-replies queue a due timer's job goes to (`LATER_QUEUE_ARN`)."""
    dead_letter_arn: str
    """Where a job the Scheduler could not deliver goes (`DEAD_LETTER_QUEUE_ARN`)."""


TIMER_VARIABLES = (
    "SCHEDULE_GROUP",
    "SCHEDULER_ROLE_ARN",
    "LATER_QUEUE_ARN",
    "DEAD_LETTER_QUEUE_ARN",
)


def timer_settings() -> TimerSettings:
    """The stack's timer settings; `ConfigurationError` when one is missing (a stack deployed
    from a template older than this code)."""
    values = {name: os.environ.get(name, "").strip() for name in TIMER_VARIABLES}
    if not all(values.values()):
        missing = ", ".join(name for name, value in values.items() if not value)
        raise ConfigurationError(
            f"reminders and deadlines need {missing}: deploy this release's template.yaml"
        )
    return TimerSettings(*values.values())


class InvalidTimeError(ValueError):
    """A timer's time is no time it can go off at: naive, past, too soon or too far ahead."""


def due_at(at: datetime | timedelta) -> float:
    """When a timer given `at` (an aware datetime, or a delay) is due, in seconds since the
    epoch, on the local clock when there is one."""
    now = local_clock.now()
    if isinstance(at, timedelta):
        ahead, slack = at.total_seconds(), 0.0
    elif isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidTimeError(
                "at must be an aware datetime (datetime(..., tzinfo=ZoneInfo('Asia/Tokyo'))) "
                "or a timedelta: a naive one names no moment"
            )
        ahead, slack = at.timestamp() - now, SLACK
    else:
        raise InvalidTimeError(f"at must be a datetime or a timedelta, not {type(at).__name__}")
    if ahead + slack < SOONEST.total_seconds():
        when = f"{_span(ahead)} from now" if ahead >= 0 else f"{_span(-ahead)} in the past"
        raise InvalidTimeError(
            f"at is {when}: a timer goes off a minute to a year ahead (to send now, leave at out)"
        )
    if ahead > LATEST.total_seconds():
        raise InvalidTimeError(f"at is {_span(ahead)} from now: a year ahead at the latest")
    return now + ahead


def _span(seconds: float) -> str:
    """A span of time as a person reads it in an error: seconds, or days when long."""
    return f"{seconds:,.0f} s" if abs(seconds) < 3 * 86400 else f"{seconds / 86400:,.0f} days"


def reminder_name(to: str, key: str) -> str:
    """The name of the timer of a reminder: one per recipient and key."""
    return f"reminder-{_digest(to, key)}"


def deadline_name(expectation: str) -> str:
    """The name of the timer of a question's deadline."""
    return f"deadline-{expectation}"


def expectation_id(conversation: str, turn: str, handler: str) -> str:
    """An expectation's id: the same for a turn that runs again (a conflict, a retry), so that
    its timer is set once."""
    return _digest(conversation, turn, handler)[:32]


def _digest(*parts: str) -> str:
    text = "\n".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(text).hexdigest()[:48]


def start(name: str, job: Job) -> bool:
    """Set the timer `name` to put `job` on the queue at `job.queued_at`; False when that timer
    is set already (asked for twice: the first one stands)."""
    origin.note_timer(job)
    if not later_queue():
        return _local_clock(name).set(name, job)
    settings = timer_settings()
    when = datetime.fromtimestamp(job.queued_at, UTC)
    try:
        aws.client("scheduler").create_schedule(
            Name=name,
            GroupName=settings.group,
            ScheduleExpression=f"at({when:%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": settings.queue_arn,
                "RoleArn": settings.role_arn,
                "Input": encode(job),
                "RetryPolicy": DELIVERY_RETRIES,
                "DeadLetterConfig": {"Arn": settings.dead_letter_arn},
            },
        )
    except Exception as error:  # unreachable, throttled, denied: nothing will go off
        if error_code(error) == "ConflictException":
            return False
        raise failed("timer not set", error) from None
    count("TimersSet")
    return True


def stop(name: str) -> bool:
    """Withdraw the timer `name`; False when none of that name waits (it went off, or never was)."""
    if not later_queue():
        clock = local_clock.current()
        return bool(clock and clock.stop(name))
    group = timer_settings().group  # a stack without it is misconfigured, not unreachable
    try:
        aws.client("scheduler").delete_schedule(Name=name, GroupName=group)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return False
        raise failed("timer not withdrawn", error) from None
    return True


def failed(line: str, error: Exception) -> NotScheduledError:
    """A timer not set or not withdrawn, logged and counted: the error to raise, which says why
    in a word (the service's error code, or the error's type), never what a message said."""
    reason = error_code(error) or type(error).__name__
    logger.error(line, extra={"reason": reason})
    count("TimersFailed")
    return NotScheduledError(reason)


def error_code(error: Exception) -> str | None:
    """The code of an AWS service's error answer (`ConflictException`...), if it is one."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code) if code else None


_NOBODY = local_clock.LocalClock()
"""Where a timer set without a clock in use waits (`make invoke`): nothing ever fires it."""


def _local_clock(name: str) -> local_clock.LocalClock:
    """The local clock a timer set now waits on."""
    clock = local_clock.current()
    if clock is None:
        logger.warning(
            "timer set where nothing fires it: make run, make chat and the test phone do",
            extra={"timer": name},
        )
        return _NOBODY
    return clock
