"""The timers `make run` keeps: in a file beside the outbox, so that those set before a restart
(the server restarts whenever its code changes) still go off after it, and fired on real time.

    clock = KeptClock(timers_file())         # the timers the server before left, read back
    with local_run.using(LocalRun(clock=clock)), firing(clock, fire_due_timers):
        serve()                              # meanwhile each timer goes off when it is due

A thread sleeps until the next timer is due, or until the timers change (one set while a message
is answered may be due sooner), and wakes once a minute at the longest: a machine that slept (a
laptop's lid closed) fires what fell due meanwhile within a minute of waking, as the Scheduler
fires within its minute. A timer that fell due while `make run` was stopped goes off when it
starts again.

Deployed, EventBridge Scheduler holds the timers (`sms_webhook/timers.py`); `make chat` and the
test phone hold theirs in memory, on a clock they move on themselves (`/wait`, `advance`).
"""

import json
import os
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.paths import LOCAL_OUTBOX
from sms_webhook.jobs import Job, decode, encode
from sms_webhook.local_clock import LocalClock
from sms_webhook.local_files import LocalFileRefusedError, open_private, private_folder

TIMERS_FILE_NAME = "timers.json"
"""The file's name, beside the outbox's."""
LONGEST_SLEEP = 60.0
"""Seconds the thread that fires timers sleeps at the most, whatever is due when."""


def timers_file() -> Path:
    """Where `make run` keeps its timers: beside its outbox (`OUTBOX_FILE`, by default
    `.local/outbox.jsonl`), in a folder of your own, a file of yours alone (`local_files`)."""
    outbox = os.environ.get("OUTBOX_FILE", "").strip() or LOCAL_OUTBOX
    return Path(outbox).with_name(TIMERS_FILE_NAME)


def kept(path: Path) -> dict[str, Job]:
    """The timers the file holds, by name: none when there is no file; ValueError when it is
    not one this code wrote (or a job in it is of a newer release), `LocalFileRefusedError`
    when it or its folder is not yours alone."""
    if not path.exists():  # nothing to read: no folder made for it either
        return {}
    with open(open_private(str(path), os.O_RDONLY), encoding="utf-8") as stored:
        timers = json.load(stored)
    if not isinstance(timers, dict):
        raise ValueError("not a JSON object")
    return {str(name): decode(json.dumps(job)) for name, job in timers.items()}


def keep(path: Path, timers: dict[str, Job]) -> None:
    """The file replaced at once by one that holds `timers`: a crash never leaves half of it.
    The new one is made by `mkstemp` (0600, never through a link)."""
    private_folder(str(path.parent))
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        with open(descriptor, "w", encoding="utf-8") as written:
            json.dump({name: json.loads(encode(job)) for name, job in timers.items()}, written)
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


Told = Callable[[Job], None]
"""Who hears of a timer set, or gone off."""


class KeptClock(LocalClock):
    """A local clock whose waiting timers are kept in `path`, read back when it is made and
    written at each change; `changed` is set at each change, and each time it moves on.
    `on_set` hears of each timer set, `on_due` of each that goes off (`make run` prints them)."""

    def __init__(
        self, path: Path, *, on_set: Told | None = None, on_due: Told | None = None
    ) -> None:
        super().__init__()
        self.path = path
        self.on_set = on_set
        self.on_due = on_due
        self.changed = threading.Event()
        self._keeping = threading.Lock()
        """Held from reading the timers to writing them: the last write holds the last change."""
        try:
            timers = kept(path)
        except (OSError, ValueError, LocalFileRefusedError) as error:
            print(
                f"{path} is unreadable ({error}): its timers are left out, and it is written "
                "afresh at the next change",
                file=sys.stderr,
                flush=True,
            )
            timers = {}
        for name, job in timers.items():
            super().set(name, job)

    def set(self, name: str, job: Job) -> bool:
        if not super().set(name, job):
            return False
        self._keep()
        if self.on_set:
            self.on_set(job)
        return True

    def stop(self, name: str) -> bool:
        if not super().stop(name):
            return False
        self._keep()
        return True

    def take_due(self) -> list[Job]:
        due = super().take_due()
        if due:
            self._keep()
        if self.on_due:
            for job in due:
                self.on_due(job)
        return due

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> None:
        super().advance(days=days, hours=hours, minutes=minutes)
        self.changed.set()

    def seconds_to_next(self) -> float | None:
        """How long until the soonest timer is due (0 when one is due), or None: none waits."""
        waiting = self.waiting()
        return max(waiting[0].queued_at - self.now(), 0.0) if waiting else None

    def _keep(self) -> None:
        with self._keeping:
            keep(self.path, self.by_name())
        self.changed.set()


@contextmanager
def firing(clock: KeptClock, fire: Callable[[], object]) -> Iterator[None]:
    """Meanwhile, `fire()` (`later.run_due_timers`) is called from a thread of its own whenever
    a timer of `clock` may have fallen due: at the time of the soonest, at each change, and
    every `LONGEST_SLEEP` seconds. The thread has stopped once this ends."""
    stopping = threading.Event()

    def fire_when_due() -> None:
        while True:
            clock.changed.clear()  # a change from now on wakes the wait below
            if stopping.is_set():
                return
            try:
                fire()
            except Exception:  # printed; the timers after it still go off
                traceback.print_exc()
            soonest = clock.seconds_to_next()
            clock.changed.wait(LONGEST_SLEEP if soonest is None else min(soonest, LONGEST_SLEEP))

    thread = threading.Thread(target=fire_when_due, name="timers", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        clock.changed.set()
        thread.join()
