"""What a handler that runs later adds to the webhook's answer: one SQS send per message, and on
the first, making the SQS client (boto3 imported then).

    cd <project> && <its python> bench/drivers/later.py EVENTS_FILE RESULT_FILE

It runs with `LATER_QUEUE_URL`, `IDEMPOTENCY_TABLE` and their endpoints on loopback in its
environment. EVENTS_FILE holds, in marshal's format, ordinary events (answered at once) and events
whose handler runs later, each a list of loops of new messages. The process answers an ordinary
event first, as a cold start does, then its first later one. The result file gets, in marshal's
format, the statuses of every answer, the milliseconds of that first later answer, and the median
milliseconds per ordinary and per later event once warm. Imports as bench/drivers/cold.py does.
"""

import marshal
import os
import sys
import time

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

sys.path[0] = os.getcwd()

import handler  # noqa: E402


def main(events_file: str, result_file: str) -> None:
    context = LambdaContext()
    with open(events_file, "rb") as events:
        ordinary, later = marshal.load(events)
    statuses = [handler.lambda_handler(ordinary[0][0], context)["statusCode"]]
    started = time.perf_counter_ns()
    statuses.append(handler.lambda_handler(later[0][0], context)["statusCode"])
    first_later_ms = (time.perf_counter_ns() - started) / 1e6

    def per_call(loops: list[list[dict[str, object]]]) -> float:
        """The median over the loops (the first was the cold start's) of the ms per event."""
        rounds = []
        for events in loops[1:]:
            started = time.perf_counter_ns()
            for event in events:
                statuses.append(handler.lambda_handler(event, context)["statusCode"])
            rounds.append((time.perf_counter_ns() - started) / len(events) / 1e6)
        return sorted(rounds)[len(rounds) // 2]

    result = (sorted(set(statuses)), first_later_ms, per_call(ordinary), per_call(later))
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
