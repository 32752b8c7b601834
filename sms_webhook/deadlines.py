"""How long each part of a request may take: the reads before your reply code, your reply code,
and the writes that save what it did.

Twilio waits 15 s for an answer; the function's own timeout (`WEBHOOK_TIMEOUT`, 30 s) ends the
invocation. A request has three parts, each with its own time:

1. Before reply code: reading the secret, the deduplication records, the conversation. Each AWS
   call is attempted only if it can end within `AWS_BUDGET` of the request's arrival: a hanging
   service costs a request at most that. Building an AWS client is this machine's work, not a
   wait on AWS: the time it takes is added to the budget (a busy machine is no outage).
2. Reply code: `REPLY_TIME`, the time an ordinary handler may take before its answer. The AWS
   calls it makes (`send_text`) may use the invocation's time. A handler that takes longer is
   logged (`reply code overran its time`) and counted (`SlowReplies`); what it did is still saved,
   and once Twilio may no longer read the answer (`twilio_waits`), the webhook has the reply sent
   as texts (`later.answer_now`).
3. After reply code: the calls that save what it did (the conversation, the deduplication
   records) get `SAVE_WINDOW` of their own from the moment it returns.

No part may run past `ANSWER_MARGIN` before the invocation's end. The worker, whose jobs have
minutes, has no budget but the invocation's.

The clock is per request (a context variable), so requests served side by side in threads
(`make run`, the tests) each keep their own.
"""

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass

from sms_webhook.telemetry import count, logger

monotonic = time.monotonic
"""The clock every deadline is measured on (a test may move it by hand)."""
sleep = time.sleep
"""How a wait on that clock is made (a test's moves its clock instead)."""

TWILIO_WAIT = 15.0
"""Seconds Twilio waits for an answer, from the moment it sent the request."""
WEBHOOK_TIMEOUT = 30
"""The webhook function's timeout in template.yaml: room for the slowest of each part below, and
for reply code that overruns its time to still have what it did saved."""
AWS_BUDGET = 4.0
"""Seconds after a request arrives by which its AWS calls before reply code have ended."""
REPLY_TIME = 10.0
"""Seconds an ordinary handler may take before its answer: with the milliseconds the reads and
writes around it usually take, Twilio gets its answer well within 15 s."""
SAVE_WINDOW = 6.0
"""Seconds the calls that save what reply code did have once it returns: the last of them (the
conversation, then two deduplication records) may start up to 3 s after, and still have a
DynamoDB attempt's slowest (3 s)."""
LATE_MARGIN = 3.0
"""Seconds before Twilio's wait ends from which an answer made may reach it too late: what passes
before the request arrives (API Gateway, a cold start) and after the answer is made (the writes
that save it). A reply made after `TWILIO_WAIT - LATE_MARGIN` (12 s) goes as texts instead."""
ANSWER_MARGIN = 1.0
"""Seconds kept, at the least, between the last AWS call and the invocation's own timeout."""


@dataclass
class _Clock:
    arrived: float | None
    """When the request arrived (`time.monotonic()`); None outside a request."""
    deadline: float
    """No AWS call is attempted that could not end by then."""
    last_call: float
    """When the invocation's time, less `ANSWER_MARGIN`, runs out."""
    answer_by: float
    """When the answer is due: Twilio stops waiting (the webhook), or the invocation ends."""
    save_window: float
    reply_time: float
    reply_code_depth: int = 0


_clock: ContextVar[_Clock] = ContextVar("clock")


def _current() -> _Clock:
    """This request's clock; outside a request (a script, a test of one module), no limit."""
    try:
        return _clock.get()
    except LookupError:
        end_request()
        return _clock.get()


def start_request(remaining_millis: int) -> None:
    """A webhook request arrives now, with `remaining_millis` of the invocation's time left."""
    now = monotonic()
    last_call = now + remaining_millis / 1000 - ANSWER_MARGIN
    budget = min(now + AWS_BUDGET, last_call)
    _clock.set(_Clock(now, budget, last_call, now + TWILIO_WAIT, SAVE_WINDOW, REPLY_TIME))


def start_job(remaining_millis: int) -> None:
    """A worker's invocation starts now: every part has all the time left."""
    now = monotonic()
    last_call = now + remaining_millis / 1000 - ANSWER_MARGIN
    _clock.set(_Clock(now, last_call, last_call, last_call, math.inf, math.inf))


def seconds_left() -> float:
    """How long the AWS calls of this part of the request may still take."""
    return _current().deadline - monotonic()


def seconds_to_answer() -> float:
    """How long until the answer is due: Twilio's wait after a webhook request arrived, the
    invocation's time for a worker's job."""
    return _current().answer_by - monotonic()


def twilio_waits() -> bool:
    """Whether an answer made now still reaches Twilio in time (outside a webhook request, where
    nobody waits for one, always)."""
    return seconds_to_answer() > LATE_MARGIN


def seconds_since_arrival() -> float:
    """How long ago the request arrived (0 outside a request)."""
    arrived = _current().arrived
    return 0.0 if arrived is None else monotonic() - arrived


def extend(seconds: float) -> None:
    """Add to the AWS deadline time this machine spent on its own work (building a client),
    never past the invocation's last call."""
    clock = _current()
    clock.deadline = min(clock.deadline + seconds, clock.last_call)


def reply_code() -> "ReplyCode":
    """While your code runs: its own AWS calls may use the invocation's time; once it returns,
    the writes that save what it did get `SAVE_WINDOW` from then. Nested uses count as one."""
    return ReplyCode(_current())


class ReplyCode:
    """`with reply_code():`, written as a class: every message runs its handler in one, and a
    generator made into a context manager costs twice as much."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.outermost = False
        self.started = 0.0

    def __enter__(self) -> None:
        clock = self.clock
        self.outermost = clock.reply_code_depth == 0
        clock.reply_code_depth += 1
        self.started = monotonic()
        if self.outermost:
            clock.deadline = clock.last_call

    def __exit__(self, *_: object) -> None:
        self.clock.reply_code_depth -= 1
        if self.outermost:
            _returned(self.clock, monotonic() - self.started)


def _returned(clock: _Clock, took: float) -> None:
    """Reply code returned after `took` seconds: the save window opens, and an overrun is told."""
    clock.deadline = min(monotonic() + clock.save_window, clock.last_call)
    if took > clock.reply_time:
        logger.warning(
            "reply code overran its time: its reply may reach Twilio too late",
            extra={"seconds": round(took, 1), "reply_time": clock.reply_time},
        )
        count("SlowReplies")


def end_request() -> None:
    """What follows belongs to no request (a script, a test): no limit until the next starts."""
    _clock.set(_Clock(None, math.inf, math.inf, math.inf, math.inf, math.inf))
