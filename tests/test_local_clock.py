"""`sms_webhook.local_clock.LocalClock`: what this project's tools read of it."""

from sms_webhook.jobs import TextJob
from sms_webhook.local_clock import LocalClock


def reminder(key: str, due: int) -> TextJob:
    return TextJob("+14155550100", "hi", (), key, "", "", None, queued_at=due)


def test_by_name_gives_each_timer_waiting_under_its_name():
    clock = LocalClock()
    clock.set("a", reminder("a", 100))
    clock.set("b", reminder("b", 200))

    assert clock.by_name() == {"a": reminder("a", 100), "b": reminder("b", 200)}


def test_by_name_leaves_out_a_timer_stopped_or_gone_off():
    clock = LocalClock()
    clock.set("gone", reminder("gone", 100))
    clock.set("stopped", reminder("stopped", 10**10))
    clock.set("waiting", reminder("waiting", 10**10))

    clock.stop("stopped")
    clock.take_due()

    assert list(clock.by_name()) == ["waiting"]


def test_by_name_is_a_copy_the_clock_does_not_share():
    clock = LocalClock()
    clock.set("a", reminder("a", 100))

    clock.by_name().clear()

    assert list(clock.by_name()) == ["a"]
