"""The public URL Twilio called, rebuilt from what the front door tells the function.

Twilio signs the exact URL it called (the public one, e.g. the API's stage URL, never the path
Lambda routes on), so signatures are checked against it, and status callbacks are asked for on
its sibling `/status`:

- API Gateway REST: `https://{requestContext.domainName}{requestContext.path}`. The path is the
  one on the host that was called: `/Prod/sms` on execute-api, or the custom domain's path with its
  base path mapping. The query string arrives decoded, so it is encoded again (see below).
- HTTP API and Function URLs (payload 2.0): `https://{requestContext.domainName}{rawPath}` and
  the raw query string, byte for byte.
- `TWILIO_WEBHOOK_URL`, when set, is the URL of `/sms` as configured in Twilio (proxies,
  CloudFront, tunnels, HTTP API custom-domain mappings): it replaces the scheme, host and path (and
  the query string, unless the request brought one); other routes are its siblings.
"""

import string
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from sms_webhook.config import webhook_url_override
from sms_webhook.proxy_event import HttpRequest

STATUS_ROUTE = "status"


def public_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have called to make this request, the likeliest first."""
    base = _base_url(request)
    if base is None:
        return []
    if request.raw_query is not None:
        query_strings = [request.raw_query]
    else:
        query_strings = _rest_query_strings(request.decoded_query)
    return [_with_query(base, query) for query in query_strings]


def public_url_for_logs(request: HttpRequest) -> str:
    """The public URL without its query string, which may carry phone numbers and text, and
    without the `user:password@` a configured URL may hold."""
    base = _base_url(request)
    if base is None:
        return ""
    scheme, separator, rest = base.partition("?")[0].partition("://")
    host, slash, path = rest.partition("/")  # not urlsplit: the URL may be one it rejects
    return f"{scheme}{separator}{host.rpartition('@')[2]}{slash}{path}"


def status_callback_url(request: HttpRequest) -> str | None:
    """Where Twilio should report the delivery of replies: `/status` beside the URL it called."""
    base = _base_url(request)
    return sibling_url(base, STATUS_ROUTE) if base is not None else None


def _base_url(request: HttpRequest) -> str | None:
    """The URL Twilio called, before the query string of a GET: the configured one, or the one
    the front door says was called; None when there is neither."""
    configured = webhook_url_override()
    if configured is None:
        return f"https://{request.domain}{request.public_path}" if request.domain else None
    if request.route == f"/{STATUS_ROUTE}":
        return sibling_url(configured, STATUS_ROUTE)
    return configured


def sibling_url(url: str, name: str) -> str:
    """The URL with its last path segment replaced by `name`, and no query string."""
    scheme, host, path, _, _ = urlsplit(url)
    return urlunsplit((scheme, host, f"{path.rstrip('/').rpartition('/')[0]}/{name}", "", ""))


def _with_query(url: str, query: str) -> str:
    return f"{url.partition('?')[0]}?{query}" if query else url


def _rest_query_strings(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """Query strings, re-encoded from API Gateway's decoded parameters, that Twilio may have sent.

    Twilio form-encodes (spaces as `+`, `'` as `%27`); the other encodings cover clients that
    write spaces as `%20`, or keep `*` and encode `~` as Java's encoder does. Those two differ
    from the form encoding in those characters only, so they are made from it. The order is the
    event's own, the order API Gateway received them in.
    """
    if not pairs:
        return [""]
    as_form = urlencode(pairs, quote_via=_quote_plus)
    as_percent_20 = as_form.replace("+", "%20")  # a + in the form encoding is always a space
    as_java = as_form.replace("%2A", "*").replace("~", "%7E")
    return list(dict.fromkeys((as_form, as_percent_20, as_java)))


_FORM_ENCODING = {
    byte: f"%{byte:02X}"
    for byte in range(256)
    if chr(byte) not in string.ascii_letters + string.digits + "_.-~"
}
_FORM_ENCODING[ord(" ")] = "+"


def _translate_quote_plus(text: str, *_: object) -> str:
    """`urllib.parse.quote_plus`, at the speed of `str.translate`: urllib encodes byte by byte
    in Python, which a forged GET with a long query of non-ASCII text would make costly."""
    return text.encode("utf-8").decode("latin-1").translate(_FORM_ENCODING)


_quote_plus: Callable[..., str] = _translate_quote_plus  # what urlencode's quote_via accepts
