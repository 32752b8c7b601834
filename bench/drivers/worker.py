"""The worker's cold start: a fresh process imports the handler, then what the worker's first job
imports (the worker's module, twilio's REST client and requests), and runs one SQS event.

    cd <project> && <its python> bench/drivers/worker.py EVENT_FILE RESULT_FILE [TWILIO_PORT]

With `OUTBOX_FILE` in its environment what the job sends goes to the local outbox; with
TWILIO_PORT, twilio's REST client sends it, its requests going to that port on loopback (plain
HTTP) instead of to api.twilio.com: everything else is the client's own. The result file gets, in
marshal's format, how many records of the event failed, the seconds to import the handler, to
import the rest, and to run the event, and the process's peak RSS in KiB (VmHWM). Imports as
bench/drivers/cold.py does.
"""

import marshal
import os
import sys
import time
from typing import Any, cast

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from devtools.lambda_context import LambdaContext  # noqa: E402

sys.path[0] = os.getcwd()

TWILIO_API = "https://api.twilio.com"


def peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def send_to_loopback(port: str) -> None:
    """twilio's own HTTP client, whose requests go to the port instead of to Twilio."""
    from twilio.http.http_client import TwilioHttpClient

    from sms_webhook import sending

    loopback = f"http://127.0.0.1:{port}"

    class LoopbackClient(TwilioHttpClient):  # type: ignore[misc]  # twilio has no types
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            return super().request(method, url.replace(TWILIO_API, loopback, 1), *args, **kwargs)

    client = LoopbackClient(timeout=sending.HTTP_TIMEOUT)
    sending.http_client = lambda: client  # type: ignore[assignment]  # the cached one's place


def main(event_file: str, result_file: str, twilio_port: str = "") -> None:
    started = time.perf_counter()
    import handler

    imported = time.perf_counter()
    import requests  # noqa: F401
    import twilio.rest  # noqa: F401

    from sms_webhook import sending  # noqa: F401

    imported_rest = time.perf_counter()
    if twilio_port:
        send_to_loopback(twilio_port)
    with open(event_file, "rb") as events:
        event = marshal.load(events)
    ready = time.perf_counter()
    answer = handler.later_replies_handler(event, LambdaContext(remaining_millis=300_000))
    ran = time.perf_counter()
    result = (
        len(cast(list[object], answer["batchItemFailures"])),
        imported - started,
        imported_rest - imported,
        ran - ready,
        peak_kib(),
    )
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
