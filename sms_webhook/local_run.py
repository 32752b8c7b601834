"""A local run: where jobs for later and the texts they send go on this machine, where nothing
may reach SQS or Twilio (`make run`, `make chat`, `make invoke`, the test phone, your tests).

    held = []
    with local_run.using(LocalRun(".local/outbox.jsonl", start=held.append)) as run:
        send_text("+14155550100", "hi", key="k1")    # the job is in `run.jobs`, its run in `held`

Deployed (`LATER_QUEUE_URL` set), jobs go to SQS and texts to Twilio, and no local run is in use
(the webhook asks, for each message, which router answers and who hears of an error). Without a
queue, the local run in use takes them, else one made from `OUTBOX_FILE`, which runs each job at
once, before the webhook answers: inside Lambda's runtime (`make invoke`, `sam local invoke`) a
thread would be stopped once the function has answered.
"""

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sms_webhook.config import ConfigurationError, outbox_file, senders_kept_locally
from sms_webhook.jobs import Job
from sms_webhook.router import Router

if TYPE_CHECKING:  # the webhook imports this module; only a local run sends, or keeps time
    from sms_webhook.local_clock import LocalClock
    from sms_webhook.sending import Outgoing

NO_OUTBOX = "later replies need LATER_QUEUE_URL (deployed) or OUTBOX_FILE (a local run)"

Start = Callable[[Callable[[], None]], None]
"""How a job's run starts: at once, in a thread, or held for later."""


def at_once(run: Callable[[], None]) -> None:
    run()


class LocalRun:
    """Jobs run on this machine, texts put in an outbox file, and whoever wants to hear of them.

    `outbox` is the file texts go to (by default, the one `OUTBOX_FILE` names when one is
    sent); `router` answers messages instead of `replies.router` (a test's own); `start` says
    when a job runs (at once by default); `on_error` is told of each error of reply code or a job
    (`make run` prints its traceback, which deployed logs never hold); `clock` holds the timers
    set meanwhile (`sms_webhook/local_clock.py`), until `later.run_due_timers` fires them."""

    def __init__(
        self,
        outbox: str | Path | None = None,
        *,
        router: Router | None = None,
        start: Start = at_once,
        on_error: Callable[[Exception], None] | None = None,
        clock: "LocalClock | None" = None,
    ) -> None:
        from sms_webhook.local_clock import LocalClock

        self.outbox = str(outbox) if outbox else None
        self.clock = clock or LocalClock()
        self.router = router
        self.start = start
        self.on_error = on_error
        self.jobs: list[Job] = []
        """Every job queued, in order."""
        self.listeners: list[Callable[[Outgoing], None]] = []
        """Who is told of each text put in the outbox, from whichever thread sent it."""

    def put(self, job: Job, run: Callable[[], None]) -> None:
        """`job`, queued: `run` runs it when `start` says."""
        self.jobs.append(job)
        self.start(run)

    def deliver(self, outgoing: "Outgoing") -> str:
        """A JSON line appended to the outbox, a file of yours alone in a folder of your own (see
        `local_files`: it holds numbers and texts); the text's sid. A text to whoever opted out
        of the sender's texts is refused as Twilio refuses it (21610), and the worker says so."""
        from sms_webhook.local_files import open_private  # a local run only

        outbox = self.outbox or outbox_file()
        if not outbox:  # nothing local may reach Twilio
            raise ConfigurationError(NO_OUTBOX)
        if senders_kept_locally() and _opted_out(outgoing):
            from sms_webhook.sending import UNSUBSCRIBED, RefusedError

            raise RefusedError(UNSUBSCRIBED)  # as Twilio refuses it
        sid = f"SM{time.time_ns():032x}"[:34]
        line = {**outgoing._asdict(), "sid": sid, "at": round(time.time(), 3)}
        descriptor = open_private(outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        with open(descriptor, "a", encoding="utf-8") as written:
            written.write(json.dumps(line, ensure_ascii=False) + "\n")
        for listener in list(self.listeners):
            listener(outgoing)
        return sid

    def failed(self, error: Exception) -> None:
        if self.on_error:
            self.on_error(error)

    @contextmanager
    def listening(self, listener: "Callable[[Outgoing], None]") -> Iterator[None]:
        """`listener` is told of each text put in the outbox meanwhile."""
        self.listeners.append(listener)
        try:
            yield
        finally:
            self.listeners.remove(listener)


def _opted_out(outgoing: "Outgoing") -> bool:
    """Whether the recipient opted out of the sender's texts; a senders file that cannot be read
    counts as no (logged where it failed), as the table deployed does."""
    from sms_webhook import senders

    try:
        return senders.opted_out(outgoing.sender, outgoing.to)
    except senders.SendersUnavailableError:
        return False


_installed: list[LocalRun] = []
"""The local runs installed, the last one in use: each block of `using` takes its own out when
it ends, whichever thread ends first."""
_lock = threading.Lock()


@contextmanager
def using(run: LocalRun) -> Iterator[LocalRun]:
    """`run` takes the jobs, timers and texts of every thread meanwhile: one local run per
    process, as one queue deployed."""
    from sms_webhook import local_clock

    with _lock:
        _installed.append(run)
    try:
        with local_clock.using(run.clock):
            yield run
    finally:
        with _lock:
            del _installed[len(_installed) - 1 - _installed[::-1].index(run)]


def installed() -> LocalRun | None:
    """The local run in use, if any: deployed, none."""
    return _installed[-1] if _installed else None


def current() -> LocalRun:
    """The local run in use, else one into the outbox `OUTBOX_FILE` names, which runs each job
    at once."""
    run = installed()
    if run is not None:
        return run
    if not outbox_file():  # nothing local may reach Twilio
        raise ConfigurationError(NO_OUTBOX)
    return LocalRun()


def sending_here() -> LocalRun | None:
    """The local run that takes the texts a job sends, if this is a local run: one with an
    outbox, its own or `OUTBOX_FILE`'s. None: they go to Twilio (a local run installed only to
    name a router, as tests do beside a stand-in of Twilio, is no place to send)."""
    run = installed()
    if run is not None and (run.outbox or outbox_file()):
        return run
    return LocalRun() if outbox_file() else None


def router() -> Router | None:
    """The router the local run in use answers with instead of `replies.router`, if any."""
    run = installed()
    return run.router if run else None


def failed(error: Exception) -> None:
    """Tell the local run in use of an error of reply code or a job; deployed, nothing."""
    run = installed()
    if run is not None:
        run.failed(error)
