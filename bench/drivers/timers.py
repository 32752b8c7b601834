"""What setting a reminder costs the code that sets it: `send_text(..., at=timedelta(hours=1))`,
one EventBridge Scheduler CreateSchedule.

    cd <project> && <its python> bench/drivers/timers.py CALLS RESULT_FILE

It runs with `LATER_QUEUE_URL`, `IDEMPOTENCY_TABLE`, the timer settings of a group of its own and
the Scheduler's endpoint on loopback in its environment. The process sets a first reminder
(boto3 imported then, the Scheduler's client made), then CALLS more, each under a key of its own:
each a new schedule. The result file gets, in marshal's format, the milliseconds of the first,
and of each of the others.
"""

import marshal
import os
import sys
import time
from datetime import timedelta

sys.path[0] = os.getcwd()

from sms_webhook import send_text  # noqa: E402

RECIPIENT = "+14155550100"
DELAY = timedelta(hours=1)


def milliseconds_to_set(key: str) -> float:
    started = time.perf_counter_ns()
    send_text(RECIPIENT, "Your table is ready", key=key, at=DELAY)
    return (time.perf_counter_ns() - started) / 1e6


def main(calls: str, result_file: str) -> None:
    first = milliseconds_to_set("first")
    each = [milliseconds_to_set(f"table {number}") for number in range(int(calls))]
    with open(result_file, "wb") as output:
        marshal.dump((first, each), output)


if __name__ == "__main__":
    main(*sys.argv[1:])
