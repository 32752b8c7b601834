"""`devtools.kept_timers`: `make run`'s timers, kept in a file across restarts and fired on time."""

import json
import stat
import threading

import pytest

from devtools import kept_timers
from devtools.kept_timers import KeptClock, firing, kept, timers_file
from sms_webhook.jobs import Job, TextJob, TimerJob
from tests.support.local_project import eventually


def reminder(key: str, due: float) -> TextJob:
    return TextJob("+14155550100", "Call back", (), key, "", "", None, queued_at=int(due))


def deadline(due: float) -> TimerJob:
    return TimerJob(
        "+14155551234", "+15005550006", "nudge", "deadline 1", "", "", None, "1", int(due)
    )


@pytest.fixture
def path(tmp_path):
    return tmp_path / "local" / "timers.json"


def test_the_timers_file_is_beside_the_outbox(monkeypatch, tmp_path):
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))

    assert timers_file() == tmp_path / "timers.json"


def test_a_clock_on_the_file_holds_the_timers_the_clock_before_it_left(path):
    before = KeptClock(path)
    before.set("reminder-a", reminder("a", 2e9))
    before.set("deadline-1", deadline(2e9 + 60))

    assert KeptClock(path).by_name() == before.by_name()


def test_a_timer_stopped_is_no_longer_kept(path):
    clock = KeptClock(path)
    clock.set("reminder-a", reminder("a", 2e9))
    clock.set("reminder-b", reminder("b", 2e9))

    clock.stop("reminder-a")

    assert list(kept(path)) == ["reminder-b"]


def test_a_timer_gone_off_is_no_longer_kept(path):
    clock = KeptClock(path)
    clock.set("reminder-a", reminder("a", clock.now() + 60))
    clock.set("reminder-b", reminder("b", clock.now() + 120))

    clock.advance(minutes=1)
    clock.take_due()

    assert list(kept(path)) == ["reminder-b"]


def test_the_file_is_yours_alone(path):
    KeptClock(path).set("reminder-a", reminder("a", 2e9))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_without_a_file_no_timer_waits_and_no_folder_is_made(path):
    assert KeptClock(path).waiting() == []
    assert not path.parent.exists()


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"reminder-a": {"version": 9, "job": "text"}}'], ids=str
)
def test_an_unreadable_file_is_said_in_a_line_and_its_timers_left_out(path, capsys, content):
    path.parent.mkdir(mode=0o700)
    path.write_text(content)

    assert KeptClock(path).waiting() == []
    assert capsys.readouterr().err.startswith(f"{path} is unreadable (")


def test_a_file_in_a_folder_others_may_write_in_is_left_out_in_a_line(path, capsys):
    KeptClock(path).set("reminder-a", reminder("a", 2e9))
    path.parent.chmod(0o777)

    assert KeptClock(path).waiting() == []
    assert "may be written in by other users" in capsys.readouterr().err


def test_each_timer_set_is_told_once(path):
    told: list[Job] = []
    clock = KeptClock(path, on_set=told.append)

    clock.set("reminder-a", reminder("a", 2e9))
    clock.set("reminder-a", reminder("a", 2e9 + 60))  # the first one stands

    assert told == [reminder("a", 2e9)]


def test_each_timer_that_goes_off_is_told(path):
    told: list[Job] = []
    clock = KeptClock(path, on_due=told.append)
    due = clock.now() + 60
    clock.set("reminder-a", reminder("a", due))

    clock.advance(minutes=1)
    clock.take_due()

    assert told == [reminder("a", due)]


# Fired on time


@pytest.fixture
def fired(path):
    """A kept clock whose timers fire meanwhile, each job that goes off noted: the clock, and
    the jobs fired."""
    clock = KeptClock(path)
    jobs: list[Job] = []
    with firing(clock, lambda: jobs.extend(clock.take_due())):
        yield clock, jobs


def test_a_timer_goes_off_once_the_clock_has_moved_on_to_it(fired):
    clock, jobs = fired
    in_an_hour = reminder("a", clock.now() + 3600)
    clock.set("reminder-a", in_an_hour)

    clock.advance(hours=1)

    assert eventually(lambda: jobs == [in_an_hour])


def test_a_timer_set_due_already_goes_off_at_once(fired):
    clock, jobs = fired
    now = reminder("a", clock.now())

    clock.set("reminder-a", now)

    assert eventually(lambda: jobs == [now])


def test_a_timer_goes_off_on_real_time_with_no_change_to_wake_the_thread(fired):
    clock, jobs = fired
    soon = reminder("a", clock.now() + 1)  # a second from now, to the second

    clock.set("reminder-a", soon)

    assert eventually(lambda: jobs == [soon])


def test_a_timer_due_when_the_clock_is_made_goes_off_once_firing_starts(path):
    KeptClock(path).set("reminder-a", reminder("a", 1e9))  # due while make run was stopped
    clock = KeptClock(path)
    jobs: list[Job] = []

    with firing(clock, lambda: jobs.extend(clock.take_due())):
        assert eventually(lambda: jobs == [reminder("a", 1e9)])


def test_the_thread_that_fires_has_stopped_once_firing_ends(path):
    with firing(KeptClock(path), lambda: None):
        pass

    assert [thread for thread in threading.enumerate() if thread.name == "timers"] == []


def test_the_thread_sleeps_a_minute_at_most(monkeypatch, path):
    waits: list[float | None] = []
    clock = KeptClock(path)
    wait = clock.changed.wait

    def noted(seconds: float | None = None) -> bool:
        waits.append(seconds)
        return wait(0.01)

    monkeypatch.setattr(clock.changed, "wait", noted)
    clock.set("reminder-a", reminder("a", clock.now() + 3600))

    with firing(clock, lambda: None):
        assert eventually(lambda: waits)

    assert waits[0] == kept_timers.LONGEST_SLEEP


def test_the_file_holds_each_job_as_the_queue_carries_it(path):
    KeptClock(path).set("reminder-a", reminder("a", 2e9))

    assert json.loads(path.read_text())["reminder-a"]["job"] == "text"
