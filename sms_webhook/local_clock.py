"""Time on this machine: where timers wait when nothing deployed holds them (`make run`,
`make chat`, the test phone, your tests), and a clock that can be told to move on.

    clock = LocalClock()
    with local_clock.using(clock):
        send_text("+14155550100", "Your table is ready", key="t1", at=timedelta(hours=2))
        clock.advance(hours=2)        # now the timer is due: `clock.take_due()` hands it over

Deployed, EventBridge Scheduler holds timers and AWS's clock says when they are due
(`sms_webhook/timers.py`); no local clock is in use, and `now()` is the time.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sms_webhook.jobs import Job


class LocalClock:
    """Real time moved on by `advance`, and the timers waiting for it, by name: a timer's job is
    due at its `queued_at`, when it goes on the queue. Safe to share between threads (`make run`
    answers in several)."""

    def __init__(self) -> None:
        self.offset = 0.0
        """Seconds `advance` has moved this clock ahead of real time."""
        self._waiting: dict[str, Job] = {}
        self._gone: set[str] = set()
        """The names of the timers that went off."""
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, on this clock."""
        return time.time() + self.offset

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> None:
        """Move the clock on: what falls due meanwhile is then `take_due`'s."""
        with self._lock:
            self.offset += (days * 24 + hours) * 3600 + minutes * 60

    def move_to(self, moment: float) -> None:
        """Move the clock on to `moment` (seconds since the epoch), if it is not there already."""
        with self._lock:
            self.offset += max(moment - self.now(), 0.0)

    def set(self, name: str, job: Job) -> bool:
        """Hold `job` until it is due; False when a timer of that name waits already (the first
        one stands, as deployed)."""
        with self._lock:
            if name in self._waiting:
                return False
            self._waiting[name] = job
            return True

    def stop(self, name: str) -> bool:
        """Withdraw a waiting timer; False when none of that name waits."""
        with self._lock:
            return self._waiting.pop(name, None) is not None

    def went_off(self, name: str) -> bool:
        """Whether the timer of that name went off."""
        return name in self._gone

    def waiting(self) -> list[Job]:
        """The jobs of the timers waiting, the soonest first."""
        with self._lock:
            return sorted(self._waiting.values(), key=lambda job: job.queued_at)

    def by_name(self) -> dict[str, Job]:
        """The jobs of the timers waiting, by name: what `make run` keeps in a file across its
        restarts (`devtools/kept_timers.py`)."""
        with self._lock:
            return dict(self._waiting)

    def take_due(self) -> list[Job]:
        """The jobs of the timers due now, the earliest first, which no longer wait."""
        with self._lock:
            now = self.now()
            due = sorted(
                (job.queued_at, name) for name, job in self._waiting.items() if job.queued_at <= now
            )
            self._gone.update(name for _, name in due)
            return [self._waiting.pop(name) for _, name in due]


_installed: list[LocalClock] = []
_lock = threading.Lock()


@contextmanager
def using(clock: LocalClock) -> Iterator[LocalClock]:
    """`clock` holds the timers of every thread meanwhile (a local run installs its own)."""
    with _lock:
        _installed.append(clock)
    try:
        yield clock
    finally:
        with _lock:
            del _installed[len(_installed) - 1 - _installed[::-1].index(clock)]


def current() -> LocalClock | None:
    """The local clock in use, if any: deployed, none."""
    return _installed[-1] if _installed else None


def now() -> float:
    """The time on the local clock in use, else the time."""
    clock = current()
    return clock.now() if clock else time.time()
