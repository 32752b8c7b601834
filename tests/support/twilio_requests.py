"""Twilio's requests for the tests: the tests' tokens, numbers and fields, and conveniences that
build, sign and read events with the project's own helpers (devtools/twilio_message.py for the
fields, their encoding and signature; devtools/proxy_events.py for the events).

The events' shapes are JSON files in `tests/events/` (as AWS documents them); the conveniences
only fill in what varies from test to test: method, fields, host, path, and the signature.
"""

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from devtools.proxy_events import Event, Target, rest_event, v2_event

# The tests' sender and number, which the tests import from here too.
from devtools.twilio_message import SENDER as SENDER
from devtools.twilio_message import TWILIO_NUMBER as TWILIO_NUMBER
from devtools.twilio_message import (
    message_fields,
    query_and_body,
    twilio_signature,
    whatsapp_fields,
)

EVENTS = Path(__file__).parent.parent / "events"

TOKEN = "test-token-0123456789abcdef01234"
"""The auth token the tests sign with, and give to the function."""
SSM_TOKEN = "ssm-token-56789abcdef0123456789"
PREVIOUS_TOKEN = "previous-token-abcdef0123456789"
SHARED_KEY_ID = "webhooks_sharedkey_0123456789abcdef"
SHARED_KEY_SECRET = "shared-key-secret-9876543210fedcba"

NEVER_LOGGED = (
    TOKEN,
    SSM_TOKEN,
    PREVIOUS_TOKEN,
    SHARED_KEY_SECRET,
    SENDER,
    TWILIO_NUMBER,
    "+1415555",  # every number of the tests', whoever texts or is texted
    "%2B1415555",
    "sendingsecret0451",  # the API key's, in tests that configure one
)
"""Secrets and full phone numbers: no log line, metric or answer may contain them."""

REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
REST_URL = f"https://{REST_HOST}/Prod/sms"
HTTP_API_HOST = "r3pmxmplak.execute-api.us-east-1.amazonaws.com"
FUNCTION_URL_HOST = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws"

MESSAGE_SID = "SM0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"

SMS = message_fields("How are you doing?", sid=MESSAGE_SID, account_sid=ACCOUNT_SID)
"""An incoming SMS's fields, in the order Twilio sends them."""

WHATSAPP = whatsapp_fields("Hi there", sid=MESSAGE_SID)
"""An incoming WhatsApp message's fields, in the order Twilio sends them."""


TEMPLATE_SID = "HX0123456789abcdef0123456789abcdef"
"""A Content template's sid, as Twilio's console shows one."""

STATUS_URL = f"https://{REST_HOST}/Prod/status"

DELIVERED = [
    ("SmsSid", MESSAGE_SID),
    ("SmsStatus", "delivered"),
    ("MessageStatus", "delivered"),
    ("To", SENDER),
    ("MessageSid", MESSAGE_SID),
    ("AccountSid", ACCOUNT_SID),
    ("From", TWILIO_NUMBER),
    ("ApiVersion", "2010-04-01"),
]
"""A status callback's fields, in the order Twilio sends them."""


def with_fields(fields: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """The fields with some values changed (or added at the end)."""
    changed = [(name, changes.pop(name, value)) for name, value in fields]
    return changed + list(changes.items())


@cache
def _load(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text()


def load_event(name: str) -> Event:
    """A fresh copy of `tests/events/<name>.json`."""
    event: Event = json.loads(_load(name))
    return event


def rest_request(
    method: str = "POST",
    fields: list[tuple[str, str]] = SMS,
    *,
    base64_body: bool = False,
    domain: str = REST_HOST,
    path: str = "/sms",
    public_path: str = "/Prod/sms",
) -> Event:
    """Twilio's request with these fields (in the body of a POST, the query string of a GET) as
    a REST API delivers it: `tests/events/rest.json` filled in; `public_path` is
    `requestContext.path`."""
    query, body = query_and_body(method, fields)
    return rest_event(
        method,
        Target(domain, path, public_path),
        headers=[("Host", domain)],
        query=query,
        body=body,
        base64_body=base64_body,
        shape=load_event("rest"),
    )


def v2_request(
    name: str = "http_api",
    method: str = "POST",
    fields: list[tuple[str, str]] = SMS,
    *,
    raw_path: str = "/sms",
    stage: str = "$default",
) -> Event:
    """Twilio's request as an HTTP API or a function URL (payload 2.0) delivers it: `name` is
    `http_api` or `function_url`, the shape in `tests/events/`."""
    query, body = query_and_body(method, fields)
    return v2_event(
        load_event(name), method, raw_path=raw_path, stage=stage, query=query, body=body
    )


def signed(
    event: Event,
    url: str,
    fields: list[tuple[str, str]] = SMS,
    *,
    token: str = TOKEN,
    algorithm: str = "HMAC_SHA1",
) -> Event:
    """The event with the signature Twilio makes for `url` (and, for a POST, the fields)."""
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    post_fields = fields if method == "POST" else []
    return with_header(
        event, "X-Twilio-Signature", twilio_signature(url, post_fields, token, algorithm)
    )


def signed_message(fields: list[tuple[str, str]] = SMS, **changes: str) -> Event:
    """Twilio's signed request for a message of these fields (some changed: `with_fields`), as
    the REST API delivers it."""
    sent = with_fields(fields, **changes)
    return signed(rest_request(fields=sent), REST_URL, sent)


def signed_with_shared_key(
    event: Event, url: str, key_id: str, secret: str, algorithm: str = "HMAC_SHA256"
) -> Event:
    """The event as Twilio signs it with a SharedKey: settings header, SHA-256 signature."""
    event = signed(event, url, token=secret, algorithm=algorithm)
    settings = f"key={key_id},algorithm={algorithm}"
    return with_header(event, "X-Twilio-Webhooks-Signature-Settings", settings)


def leaked(text: str) -> list[str]:
    """The secrets and full phone numbers that appear in the text."""
    return [secret for secret in NEVER_LOGGED if secret in text]


def with_header(event: Event, name: str, value: str) -> Event:
    """A copy of the event with one more header, written as the front door writes names."""
    event = copy.deepcopy(event)
    if event.get("version") == "2.0":
        event["headers"][name.lower()] = value
    else:
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def response_header(response: dict[str, Any], name: str) -> str | None:
    """A header of the function's answer (it writes `headers`, never `multiValueHeaders`)."""
    value: str | None = response["headers"].get(name)
    return value
