"""Events as a front door would deliver Twilio's requests, signed by twilio's own validator.

The events' shapes are JSON files in `tests/events/` (as AWS documents them); these helpers only
fill in what varies from test to test: method, fields, host, path, and the signature.
"""

import base64
import copy
import json
from functools import cache
from pathlib import Path
from urllib.parse import quote_plus, urlencode

from twilio.request_validator import RequestValidator

EVENTS = Path(__file__).parent / "events"

TOKEN = "test-token-0123456789abcdef01234"
"""The auth token the tests sign with, and give to the function."""
SSM_TOKEN = "ssm-token-56789abcdef0123456789"
PREVIOUS_TOKEN = "previous-token-abcdef0123456789"
SHARED_KEY_ID = "webhooks_sharedkey_0123456789abcdef"
SHARED_KEY_SECRET = "shared-key-secret-9876543210fedcba"
SENDER = "+14155551234"
TWILIO_NUMBER = "+15005550006"

NEVER_LOGGED = (
    TOKEN,
    SSM_TOKEN,
    PREVIOUS_TOKEN,
    SHARED_KEY_SECRET,
    SENDER,
    TWILIO_NUMBER,
    "%2B1415555",
)
"""Secrets and full phone numbers: no log line, metric or answer may contain them."""

REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
REST_URL = f"https://{REST_HOST}/Prod/sms"
HTTP_API_HOST = "r3pmxmplak.execute-api.us-east-1.amazonaws.com"
FUNCTION_URL_HOST = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws"

SMS = [
    ("ToCountry", "US"),
    ("ToState", "CA"),
    ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("NumMedia", "0"),
    ("ToCity", ""),
    ("FromZip", "94105"),
    ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
    ("FromState", "CA"),
    ("SmsStatus", "received"),
    ("FromCity", "SAN FRANCISCO"),
    ("Body", "How are you doing?"),
    ("FromCountry", "US"),
    ("To", TWILIO_NUMBER),
    ("ToZip", ""),
    ("NumSegments", "1"),
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("From", SENDER),
    ("ApiVersion", "2010-04-01"),
]
"""An incoming SMS's fields, in the order Twilio sends them."""


STATUS_URL = f"https://{REST_HOST}/Prod/status"

DELIVERED = [
    ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
    ("SmsStatus", "delivered"),
    ("MessageStatus", "delivered"),
    ("To", SENDER),
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
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


def load_event(name: str) -> dict:
    """A fresh copy of `tests/events/<name>.json`."""
    return json.loads(_load(name))


def form(fields: list[tuple[str, str]]) -> str:
    """Form encoding as Twilio writes it: spaces as `+`."""
    return urlencode(fields, quote_via=quote_plus)


def rest_event(
    method: str = "POST",
    fields: list[tuple[str, str]] = SMS,
    *,
    base64_body: bool = False,
    domain: str = REST_HOST,
    path: str = "/sms",
    public_path: str = "/Prod/sms",
) -> dict:
    """An API Gateway REST API (payload 1.0) event; `public_path` is `requestContext.path`."""
    event = load_event("rest")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = public_path
    event["requestContext"]["domainName"] = domain
    event["headers"]["Host"] = domain
    event["multiValueHeaders"]["Host"] = [domain]
    if method == "GET":
        multi_value: dict[str, list[str]] = {}
        for name, value in fields:
            multi_value.setdefault(name, []).append(value)
        event["multiValueQueryStringParameters"] = multi_value
        event["queryStringParameters"] = {name: values[-1] for name, values in multi_value.items()}
    else:
        _set_body(event, form(fields), base64_body)
    return event


def v2_event(
    name: str = "http_api",
    method: str = "POST",
    fields: list[tuple[str, str]] = SMS,
    *,
    raw_path: str = "/sms",
    stage: str = "$default",
) -> dict:
    """An HTTP API or Function URL (payload 2.0) event: `name` is `http_api` or `function_url`."""
    event = load_event(name)
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["stage"] = stage
    event["rawPath"] = raw_path
    if method == "GET":
        event["rawQueryString"] = form(fields)
        event["queryStringParameters"] = dict(fields)
    else:
        _set_body(event, form(fields), base64_body=True)
    return event


def _set_body(event: dict, body: str, base64_body: bool) -> None:
    event["isBase64Encoded"] = base64_body
    event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body


class _Params(dict[str, list[str]]):
    """What twilio's validator expects for repeated names: a dict with `getall()`."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def signature(
    url: str, fields: list[tuple[str, str]] = (), token: str = TOKEN, algorithm: str = "HMAC_SHA1"
) -> str:
    """The X-Twilio-Signature Twilio sends for a request to `url` with these POST fields."""
    params = _Params()
    for name, value in fields:
        params.setdefault(name, []).append(value)
    return RequestValidator(token).compute_signature(url, params, algorithm)


def signed(
    event: dict, url: str, fields=SMS, *, token: str = TOKEN, algorithm: str = "HMAC_SHA1"
) -> dict:
    """The event with the signature Twilio makes for `url` (and, for a POST, the fields)."""
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    post_fields = fields if method == "POST" else ()
    return with_header(event, "X-Twilio-Signature", signature(url, post_fields, token, algorithm))


def signed_with_shared_key(
    event: dict, url: str, key_id: str, secret: str, algorithm: str = "HMAC_SHA256"
) -> dict:
    """The event as Twilio signs it with a SharedKey: settings header, SHA-256 signature."""
    event = signed(event, url, token=secret, algorithm=algorithm)
    settings = f"key={key_id},algorithm={algorithm}"
    return with_header(event, "X-Twilio-Webhooks-Signature-Settings", settings)


def leaked(text: str) -> list[str]:
    """The secrets and full phone numbers that appear in the text."""
    return [secret for secret in NEVER_LOGGED if secret in text]


def with_header(event: dict, name: str, value: str) -> dict:
    """A copy of the event with one more header, written as the front door writes names."""
    event = copy.deepcopy(event)
    if event.get("version") == "2.0":
        event["headers"][name.lower()] = value
    else:
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def response_header(response: dict, name: str) -> str | None:
    """A header of the function's answer, in either of the shapes Powertools writes."""
    multi_value = response.get("multiValueHeaders") or {}
    if name in multi_value:
        return ", ".join(multi_value[name])
    return (response.get("headers") or {}).get(name)
