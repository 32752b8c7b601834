"""Later replies and texts sent first, on this machine: how the jobs `sms_webhook/later.py` runs
without a queue are run, and who hears of the texts they put in the outbox (`OUTBOX_FILE`)
instead of sending them to Twilio.

Deployed, the worker runs a job once the webhook has answered Twilio. `make run` and `make chat`
keep that order with `LaterJobs`: a job queued while a message is answered waits until the answer
is out, then runs in a thread of its own. The test phone runs a job at once instead
(`later.at_once`), so that a send returns its texts.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # `make run`'s supervisor imports this, and needs none of the worker
    from sms_webhook.later import Job
    from sms_webhook.sending import Outgoing


class Text(NamedTuple):
    """A text the bot put in the outbox: to whom, and what."""

    to: str
    body: str
    media: tuple[str, ...] = ()


@contextmanager
def listening(listener: "Callable[[Outgoing], None]") -> Iterator[None]:
    """`listener` is told of each text put in the outbox meanwhile, from whichever thread."""
    from sms_webhook import sending

    sending.local_listeners.append(listener)
    try:
        yield
    finally:
        sending.local_listeners.remove(listener)


class LaterJobs:
    """`later.run_locally` for `make run` and `make chat`: a job queued while a message is
    answered (`answering`) starts once the answer is out, each in a thread of its own; one queued
    by a running job (its `send_text`) starts at once."""

    def __init__(self) -> None:
        self._held = threading.local()
        """In a thread that is answering a message, the jobs it has queued so far."""
        self._running: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run(self, job: "Job") -> None:
        held: list[Job] | None = getattr(self._held, "jobs", None)
        if held is None:
            self._start(job)
        else:
            held.append(job)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """The jobs this thread queues meanwhile start when it ends: once the answer is out."""
        held: list[Job] = []
        self._held.jobs = held
        try:
            yield
        finally:
            del self._held.jobs
            for job in held:
                self._start(job)

    def wait(self, seconds: float) -> int:
        """Wait, at most `seconds`, until every job has finished, those that running jobs start
        included: how many have not."""
        deadline = time.monotonic() + seconds
        while (running := self._alive()) and (left := deadline - time.monotonic()) > 0:
            running[0].join(left)
        return len(self._alive())

    def _alive(self) -> list[threading.Thread]:
        with self._lock:
            self._running = [thread for thread in self._running if thread.is_alive()]
            return list(self._running)

    def _start(self, job: "Job") -> None:
        from sms_webhook import sending

        thread = threading.Thread(target=sending.run_locally, args=(job,), daemon=True)
        with self._lock:
            self._running.append(thread)
            thread.start()  # within the lock: `wait` never joins a thread not yet started
