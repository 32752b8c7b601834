"""A span of time as a person writes it: `90s`, `10m`, `2h`, `1d`, or parts together, `1h30m`.

    read("1h30m")     # timedelta(hours=1, minutes=30): make chat's /wait
    written(5400)     # "1h30m": make chat's and make run's lines about timers

Whole days, hours, minutes and seconds, as one types them at a prompt, the largest first: no
fractions, no weeks.
"""

import re
from datetime import timedelta

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
"""Seconds in each unit a span is written in, the largest first."""
EXAMPLES = "90s, 10m, 2h, 1d, or parts together: 1h30m"
"""What `read` takes, for a message that says so."""
_SPAN = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
"""Each unit once at most, the largest first: `1h30m`, not `30m1h` nor `1m1m`."""


def read(text: str) -> timedelta:
    """The span `text` writes, spaces ignored; ValueError for anything else (a bare number, an
    unknown unit, a unit twice or out of order, a fraction, no time at all, more days than a
    timedelta holds)."""
    compact = "".join(text.lower().split())
    written_as = _SPAN.fullmatch(compact) if compact else None
    if written_as is None:
        raise ValueError(f"not a time like {EXAMPLES}: {text!r}")
    numbers = [int(number or 0) for number in written_as.groups()]
    seconds = sum(number * size for number, size in zip(numbers, UNITS.values(), strict=True))
    if not seconds:
        raise ValueError(f"no time to let pass: {text!r}")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # beyond timedelta's 999,999,999 days
        raise ValueError(f"too long a time: {text!r}") from None


def written(seconds: float) -> str:
    """The span (not a negative one) in whole seconds, as `read` takes it: `1d2h`, `1m30s`."""
    left = round(seconds)
    parts = []
    for unit, size in UNITS.items():
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def about(seconds: float) -> str:
    """The span to the nearest minute beyond a minute: a timer set for an hour a moment ago is
    due in `1h`, not `59m59s`. A span gone by is `0s`."""
    return written(round(seconds / 60) * 60 if seconds >= UNITS["m"] else max(seconds, 0))
