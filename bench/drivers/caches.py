"""What each of the function's caches saves: warm microseconds per valid and per forged event with
every cache, and with one cache at a time replaced by the function it wraps.

    cd <project> && <its python> bench/drivers/caches.py EVENTS_FILE RESULT_FILE

EVENTS_FILE holds, in marshal's format, the valid events, the forged ones and how many loops to
time. The result file gets, in marshal's format, a dict from the cache's name ("none taken away"
first) to the median microseconds per valid and per forged event.
"""

import marshal
import os
import sys
import time

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

sys.path[0] = os.getcwd()

import handler  # noqa: E402
from sms_webhook import signature, twiml  # noqa: E402

CACHES = {
    "twiml._document": twiml,
    "signature._with_and_without_port": signature,
}


def main(events_file: str, result_file: str) -> None:
    context = LambdaContext()
    with open(events_file, "rb") as events:
        valid, forged, loops = marshal.load(events)

    def per_call(events: list[dict[str, object]]) -> float:
        for event in events:  # once each: what is cached is cached
            handler.lambda_handler(event, context)
        rounds = []
        for _ in range(loops):
            started = time.perf_counter_ns()
            for event in events:
                handler.lambda_handler(event, context)
            rounds.append((time.perf_counter_ns() - started) / len(events) / 1000)
        return sorted(rounds)[len(rounds) // 2]

    result = {"none taken away": (per_call(valid), per_call(forged))}
    for name, module in CACHES.items():
        attribute = name.partition(".")[2]
        cached = getattr(module, attribute)
        setattr(module, attribute, cached.__wrapped__)
        result[name] = (per_call(valid), per_call(forged))
        setattr(module, attribute, cached)
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
