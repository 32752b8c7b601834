"""Runs a handler of a built artifact on events, for test_invoke.py's tests of the artifacts alone:
`lambda_handler`, or the worker's `later_replies_handler`.

    cd <artifact> && PYTHONPATH=<artifact>:<Lambda's runtime> \
        python -S tests/support/run_artifact.py lambda_handler EVENTS

`-S` and the PYTHONPATH leave the interpreter nothing but the standard library, the artifact and
what Lambda provides: a module missing from the artifact is missing here too. The fake Lambda
context is the project's (it imports nothing); nothing else of the project is on the path when
the handler is imported. The deadlines named in `DEADLINES` (JSON, the test's) are given those
seconds, as tests give them in process: a shared CI machine may be slow. Prints the answers, as
one JSON line.
"""

import json
import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

del sys.path[0]  # then the project: the handler comes from PYTHONPATH alone
import handler  # noqa: E402
from sms_webhook import deadlines  # noqa: E402  (the artifact's)

for name, seconds in json.loads(os.environ.get("DEADLINES", "{}")).items():
    setattr(deadlines, name, seconds)


def main(handler_name: str, events_file: str) -> None:
    run = getattr(handler, handler_name)
    with open(events_file) as events:
        answers = [run(event, LambdaContext()) for event in json.load(events)]
    print(json.dumps(answers))


if __name__ == "__main__":
    main(*sys.argv[1:])
