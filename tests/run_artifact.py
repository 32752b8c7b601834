"""Runs the built artifact's handler on events, for test_invoke.py's test of the trimmed artifact.

    cd <artifact> && PYTHONPATH=<artifact>:<Lambda's runtime> python -S tests/run_artifact.py EVENTS

`-S` and the PYTHONPATH leave the interpreter nothing but the standard library, the artifact and
what Lambda provides: a module missing from the artifact is missing here too. The fake Lambda
context is the project's (it imports nothing); nothing else of the project is on the path when
the handler is imported. Prints the status and body of each answer, as one JSON line.
"""

import json
import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from devtools.lambda_context import LambdaContext  # noqa: E402

del sys.path[0]  # then the project: the handler comes from PYTHONPATH alone
import handler  # noqa: E402


def main(events_file: str) -> None:
    with open(events_file) as events:
        answers = [handler.lambda_handler(event, LambdaContext()) for event in json.load(events)]
    print(json.dumps([[answer["statusCode"], answer["body"]] for answer in answers]))


if __name__ == "__main__":
    main(*sys.argv[1:])
