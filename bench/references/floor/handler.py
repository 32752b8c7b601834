"""The floor: the cheapest correct Twilio SMS webhook, standard library only.

A reference for the benchmark, never deployed. It does the job's irreducible work and nothing
else: decode the form body, check Twilio's HMAC-SHA1 signature over the stage URL and the sorted
fields (with and without :443, as twilio's validator does), answer a fixed TwiML message.
"""

import base64
import hashlib
import hmac
import os
from urllib.parse import parse_qsl

TOKEN = os.environ["TWILIO_AUTH_TOKEN"].encode()
ANSWER = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    "<Response><Message>I'm busy questing right now!</Message></Response>"
)


def _signature(url: str, pairs: list[tuple[str, str]]) -> bytes:
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    text = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    return base64.b64encode(hmac.new(TOKEN, text.encode(), hashlib.sha1).digest())


def lambda_handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    pairs = parse_qsl(body, keep_blank_values=True)
    context_ = event["requestContext"]
    host, path = context_["domainName"], context_["path"]
    given = (event.get("headers") or {}).get("X-Twilio-Signature", "").encode()
    for url in (f"https://{host}{path}", f"https://{host}:443{path}"):
        if hmac.compare_digest(_signature(url, pairs), given):
            return {"statusCode": 200, "headers": {"Content-Type": "text/xml"}, "body": ANSWER}
    return {"statusCode": 403, "headers": {"Content-Type": "text/plain"}, "body": "Forbidden"}
