"""The benchmark's warm invocations: microseconds per call in a process that has answered each
event once.

    cd <contender's folder> && <its python> bench/drivers/warm.py MODULE EVENTS_FILE RESULT_FILE

EVENTS_FILE holds, in marshal's format, the valid events, the forged ones, the worst forged ones
by name, and how many loops to time. The result file gets, in marshal's format, the statuses of
the first answers, the median microseconds per valid and per forged event, and per worst forged
event by name. Imports as bench/drivers/cold.py does.
"""

import marshal
import os
import sys
import time

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

sys.path[0] = os.getcwd()


def main(module_name: str, events_file: str, result_file: str) -> None:
    handler = __import__(module_name).lambda_handler
    context = LambdaContext()
    with open(events_file, "rb") as events:
        valid, forged, worst, loops = marshal.load(events)

    def per_call(events: list[dict[str, object]]) -> float:
        """The median over the loops of the microseconds per event."""
        rounds = []
        for _ in range(loops):
            started = time.perf_counter_ns()
            for event in events:
                handler(event, context)
            rounds.append((time.perf_counter_ns() - started) / len(events) / 1000)
        return sorted(rounds)[len(rounds) // 2]

    statuses = [
        handler(event, context)["statusCode"] for event in [*valid, *forged, *worst.values()]
    ]
    result = (
        statuses,
        per_call(valid),
        per_call(forged),
        {name: per_call([event]) for name, event in worst.items()},
    )
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
