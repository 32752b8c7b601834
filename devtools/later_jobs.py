"""When a job for later runs on this machine, in `make run` and `make chat`: after the answer.

Deployed, the worker runs a job once the webhook has answered Twilio. `make run` and `make chat`
keep that order with `LaterJobs`, the `start` of their local run (`sms_webhook/local_run.py`): a
job queued while a message is answered waits until the answer is out, then runs in a thread of
its own. The test phone runs a job at once instead, so that a send returns its texts; so does
`make chat` for the timers that go off while it lets time pass (`/wait`), in order.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class LaterJobs:
    """A job queued while a message is answered (`until_answered`) starts once the answer is out,
    each in a thread of its own; one queued by a running job (its `send_text`) starts at once;
    one queued in `at_once` runs there and then."""

    def __init__(self) -> None:
        self._held = threading.local()
        """In a thread that is answering a message, the jobs it has queued so far."""
        self._running: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, run: Callable[[], None]) -> None:
        held: list[Callable[[], None]] | None = getattr(self._held, "runs", None)
        if self.running_at_once():
            run()
        elif held is None:
            self._start(run)
        else:
            held.append(run)

    @contextmanager
    def until_answered(self) -> Iterator[None]:
        """The jobs this thread queues meanwhile start when it ends: once the answer is out."""
        held: list[Callable[[], None]] = []
        self._held.runs = held
        try:
            yield
        finally:
            del self._held.runs
            for run in held:
                self._start(run)

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """The jobs this thread queues meanwhile run in it as they are queued, each done before
        the next: timers going off in order, and those they set in turn."""
        self._held.at_once = True
        try:
            yield
        finally:
            del self._held.at_once

    def running_at_once(self) -> bool:
        """Whether this thread runs the jobs it queues as it queues them (`at_once`)."""
        return bool(getattr(self._held, "at_once", False))

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

    def _start(self, run: Callable[[], None]) -> None:
        thread = threading.Thread(target=run, daemon=True)
        with self._lock:
            self._running.append(thread)
            thread.start()  # within the lock: `wait` never joins a thread not yet started
