"""Twilio's side of `make phone`: the requests Twilio would make of the webhook `make run` serves,
on loopback, signed with the local token: a text from the phone, and the delivery status of each
text the bot sends.

Twilio reports a text's delivery to the URL its message asked for (a `<Message action>`, the
`StatusCallback` of a text sent through the API): queued, then sent, then delivered or, when
asked to fail, failed with `FAILED_ERROR_CODE`. Each report is a signed POST to that URL's route,
as it would reach the deployed stack, which logs and counts it (sms_webhook/delivery_status.py).
"""

import http.client
import threading
import time
from collections.abc import Callable

from devtools.local_token import local_token
from devtools.twilio_message import ACCOUNT_SID, form_encode, twilio_signature

TIMEOUT_SECONDS = 15
"""As long as Twilio waits for an answer."""
STEP_SECONDS = 0.4
"""Between one status and the next: long enough to see each on the page."""
STATUS_ROUTE = "/status"
"""Where the local server takes status callbacks, whatever public URL they are signed for."""
FAILED_ERROR_CODE = "30003"
"""Unreachable destination handset: what a failure reports when one is asked for."""

Fields = list[tuple[str, str]]


def post_signed(port: int, route: str, url: str, fields: Fields) -> tuple[int, bytes]:
    """POST the fields to `route` on the server on `port`, signed for `url` (the public URL the
    webhook rebuilds, which Twilio signs); its status and answer."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": twilio_signature(url, fields, local_token()),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", route, body=form_encode(fields).encode(), headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def status_fields(sid: str, status: str, *, to: str, sender: str) -> Fields:
    """A status callback's fields, in the order Twilio sends them."""
    fields = [
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", to),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]
    return [*fields, ("ErrorCode", FAILED_ERROR_CODE)] if status == "failed" else fields


def statuses(fail: bool) -> tuple[str, ...]:
    return ("queued", "sent", "failed" if fail else "delivered")


Reported = Callable[[str, int | None, bytes], None]
"""Told of each status as it is reported: the status, and the webhook's HTTP status and answer
(None and nothing when the text asked for no report: status callbacks are off)."""


def report_delivery(
    port: int,
    callback: str | None,
    fields: Callable[[str], Fields],
    *,
    fail: bool,
    reported: Reported,
) -> None:
    """In a thread of its own, each status after the last, `STEP_SECONDS` apart: POSTed to
    `callback` with `fields(status)` when there is one."""

    def deliver() -> None:
        for status in statuses(fail):
            time.sleep(STEP_SECONDS)
            if callback is None:
                reported(status, None, b"")
                continue
            try:
                code, answer = post_signed(port, STATUS_ROUTE, callback, fields(status))
            except OSError as error:  # the server restarting: as Twilio, no retry
                code, answer = 0, str(error).encode()
            reported(status, code, answer)

    threading.Thread(target=deliver, daemon=True).start()
