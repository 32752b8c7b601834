"""`devtools.durations`: a span of time as a person writes it (`make chat`'s `/wait 1h30m`)."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.durations import about, read, written


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        (" 1h 30m ", 5400),
        ("2H", 7200),
    ],
)
def test_a_span_is_whole_numbers_of_days_hours_minutes_and_seconds(text, seconds):
    assert read(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "2", "2x", "1.5h", "h", "-1h", "1h-", "2 hours", "1w", "30m1h", "1m1m"]
)
def test_what_is_no_span_is_refused(text):
    with pytest.raises(ValueError, match="90s, 10m, 2h, 1d"):
        read(text)


@pytest.mark.parametrize("text", ["0s", "0m", "0d0h"])
def test_a_span_of_no_time_is_refused(text):
    with pytest.raises(ValueError, match="no time to let pass"):
        read(text)


def test_a_span_longer_than_a_timedelta_holds_is_refused():
    with pytest.raises(ValueError, match="too long a time"):
        read("1000000000d")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42, "42s"), (90, "1m30s"), (5400, "1h30m"), (93600, "1d2h"), (86401, "1d1s")],
)
def test_a_span_is_written_largest_unit_first_leaving_out_those_it_has_none_of(seconds, text):
    assert written(seconds) == text


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_what_is_written_reads_back(seconds):
    assert read(written(seconds)) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3599.4, "1h"), (3650, "1h1m"), (42.2, "42s"), (59.6, "1m"), (-5, "0s")],
)
def test_about_is_to_the_minute_beyond_a_minute_and_never_negative(seconds, text):
    assert about(seconds) == text
