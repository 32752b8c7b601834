"""The benchmark's cold start: a fresh process imports the handler and answers one event.

    cd <contender's folder> && <its python> bench/drivers/cold.py MODULE EVENT_FILE RESULT_FILE

It runs with the contender's interpreter and imports nothing the handler would not import itself:
modules the interpreter has already loaded (marshal, os, sys, time), and the project's fake
Lambda context, which imports nothing. The handler is found in the working directory, as the
contender's module would be in Lambda. The result file gets, in marshal's format, the status of
the answer, the seconds to import and to answer, and the process's peak RSS in KiB (VmHWM).
"""

import marshal
import os
import sys
import time

# The fake context is the project's; then the working directory takes the script's place, so that
# the contender's module, and nothing of the project, is found first.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

sys.path[0] = os.getcwd()


def peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def main(module_name: str, event_file: str, result_file: str) -> None:
    started = time.perf_counter()
    module = __import__(module_name)
    imported = time.perf_counter()
    with open(event_file, "rb") as events:
        event = marshal.load(events)
    answer = module.lambda_handler(event, LambdaContext())
    answered = time.perf_counter()
    result = (answer["statusCode"], imported - started, answered - imported, peak_kib())
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
