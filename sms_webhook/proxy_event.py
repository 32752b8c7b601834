"""The HTTP request inside a Lambda event, read the same way whichever front door sent it.

API Gateway's REST API (payload 1.0) and HTTP APIs and Function URLs (payload 2.0) deliver the
same request in two shapes. Reading it once into one small typed value, with the type of every
field it uses checked, turns a malformed event into a clear 400 and lets the rest of the code
ignore the difference. (Powertools' event data classes read events lazily too, but importing them
costs about a third of this function's cold start; the README's Performance section has the
figures.)
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    """Upper-cased, e.g. `POST`."""
    route: str
    """The path the function routes on: `/sms`, whatever the stage or base path mapping."""
    public_path: str
    """The path on the host that was called: `/Prod/sms` on execute-api, `/twilio/sms` on a
    custom domain with a base path mapping, the raw path of an HTTP API or Function URL."""
    domain: str
    """The host that was called (`requestContext.domainName`), "" when the event has none."""
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: str
    is_base64_encoded: bool
    raw_query: str | None
    """The query string byte for byte (payload 2.0); None when the front door decoded it."""
    decoded_query: tuple[tuple[str, str], ...]
    """The query parameters API Gateway's REST API decoded, in the event's order."""
    request_id: str


def read_request(event: Any) -> HttpRequest | None:
    """The request in the event, or None when the event is not a well-formed HTTP event."""
    if not isinstance(event, Mapping) or not _has_valid_common_fields(event):
        return None
    if event.get("version") == "2.0":
        return _payload_v2(event) if _is_payload_v2(event) else None
    return _payload_v1(event) if _is_payload_v1(event) else None


def _payload_v1(event: Mapping[str, Any]) -> HttpRequest:
    context = event["requestContext"]
    path = event["path"]
    multi_value = event.get("multiValueQueryStringParameters")
    if multi_value:
        query = tuple((name, value) for name, values in multi_value.items() for value in values)
    else:
        query = tuple((event.get("queryStringParameters") or {}).items())
    headers = event.get("headers") or {
        name: values[-1]
        for name, values in (event.get("multiValueHeaders") or {}).items()
        if values
    }
    return HttpRequest(
        method=event["httpMethod"].upper(),
        route=_last_segment(path),
        public_path=context.get("path") or path,
        domain=context.get("domainName") or "",
        headers={name.lower(): value for name, value in headers.items()},
        body=event.get("body") or "",
        is_base64_encoded=bool(event.get("isBase64Encoded")),
        raw_query=None,
        decoded_query=query,
        request_id=str(context.get("requestId") or ""),
    )


def _payload_v2(event: Mapping[str, Any]) -> HttpRequest:
    context = event["requestContext"]
    raw_path = event["rawPath"]
    stage = context.get("stage") or "$default"  # Function URL events may leave it out
    route = raw_path
    if stage != "$default" and raw_path.startswith(f"/{stage}/"):
        route = raw_path[len(stage) + 1 :]
    return HttpRequest(
        method=context["http"]["method"].upper(),
        route=route.rstrip("/") or "/",
        public_path=raw_path,
        domain=context.get("domainName") or "",
        headers={name.lower(): value for name, value in (event.get("headers") or {}).items()},
        body=event.get("body") or "",
        is_base64_encoded=bool(event.get("isBase64Encoded")),
        raw_query=event.get("rawQueryString") or "",
        decoded_query=(),
        request_id=str(context.get("requestId") or ""),
    )


def _last_segment(path: str) -> str:
    """API Gateway REST puts a custom domain's base path mapping in `path` (`/twilio/sms`); only
    the resources the API defines reach the function, so routing looks at the last segment."""
    return "/" + path.rstrip("/").rpartition("/")[2]


def _is_payload_v1(event: Mapping[str, Any]) -> bool:
    context = event.get("requestContext")
    return (
        _is_text(event.get("httpMethod"))
        and _is_text(event.get("path"))
        and isinstance(context, Mapping)
        and _is_optional_text(context.get("path"))
        and _is_optional_text(context.get("domainName"))
        and (bool(event.get("headers")) or _is_optional_map(event.get("multiValueHeaders"), list))
        and _is_optional_map(event.get("queryStringParameters"), str)
        and _is_optional_map(event.get("multiValueQueryStringParameters"), list)
    )


def _is_payload_v2(event: Mapping[str, Any]) -> bool:
    context = event.get("requestContext")
    return (
        _is_text(event.get("rawPath"))
        and _is_optional_text(event.get("rawQueryString"))
        and isinstance(context, Mapping)
        and _is_optional_text(context.get("stage"))
        and _is_optional_text(context.get("domainName"))
        and isinstance(context.get("http"), Mapping)
        and _is_text(context["http"].get("method"))
    )


def _has_valid_common_fields(event: Mapping[str, Any]) -> bool:
    return (
        _is_optional_map(event.get("headers"), str)
        and _is_optional(event.get("body"), str)
        and _is_optional(event.get("isBase64Encoded"), bool)
    )


def _is_optional(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _is_text(value: Any) -> bool:
    """A str that can be written as UTF-8: JSON can carry unpaired surrogates (`"\\ud800"`),
    which no URL, header or signature can hold."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_optional_text(value: Any) -> bool:
    return value is None or _is_text(value)


MAX_ENTRIES = 100
"""Headers, or query parameters, an event may carry. Twilio's requests arrive with about 25
headers (API Gateway's and CloudFront's included) and at most about 60 fields; checked before
anything is read, so that a forged request of thousands of tiny headers costs no more to reject
than any other."""


def _is_optional_map(value: Any, value_kind: type) -> bool:
    """None, or a mapping of text to `value_kind` (text, or lists of text), of `MAX_ENTRIES` at
    most (values of lists counted one by one). Checked with a few C calls, not entry by entry."""
    if value is None:
        return True
    if not isinstance(value, Mapping) or len(value) > MAX_ENTRIES:
        return False
    items = list(value.values())
    if value_kind is list:
        if not all(type(item) is list for item in items):
            return False
        items = [element for item in items for element in item]
        if len(items) > MAX_ENTRIES:
            return False
    try:
        text = "".join(value) + "".join(items)  # a TypeError when one is not a str
    except TypeError:
        return False
    return _is_text(text)
