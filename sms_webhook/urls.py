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
    if request.raw_query is not None:
        query_strings = [request.raw_query]
    else:
        query_strings = _rest_query_strings(request.decoded_query)
    base = webhook_url_override()
    if base is None:
        if not request.domain:
            return []
        base = f"https://{request.domain}{request.public_path}"
    elif request.route == f"/{STATUS_ROUTE}":
        base = sibling_url(base, STATUS_ROUTE)
    return [_with_query(base, query) for query in query_strings]


def public_url_for_logs(request: HttpRequest) -> str:
    """The public URL without its query string, which may carry phone numbers and text, and
    without the `user:password@` a configured URL may hold."""
    urls = public_urls(request)
    if not urls:
        return ""
    scheme, separator, rest = urls[0].partition("?")[0].partition("://")
    host, slash, path = rest.partition("/")  # not urlsplit: the URL may be one it rejects
    return f"{scheme}{separator}{host.rpartition('@')[2]}{slash}{path}"


def status_callback_url(request: HttpRequest) -> str | None:
    """Where Twilio should report the delivery of replies: `/status` beside the URL it called."""
    urls = public_urls(request)
    return sibling_url(urls[0], STATUS_ROUTE) if urls else None


def sibling_url(url: str, name: str) -> str:
    """The URL with its last path segment replaced by `name`, and no query string."""
    scheme, host, path, _, _ = urlsplit(url)
    return urlunsplit((scheme, host, f"{path.rstrip('/').rpartition('/')[0]}/{name}", "", ""))


def _with_query(url: str, query: str) -> str:
    return f"{url.partition('?')[0]}?{query}" if query else url


def _rest_query_strings(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """Query strings, re-encoded from API Gateway's decoded parameters, that Twilio may have sent.

    Twilio form-encodes (spaces as `+`, `'` as `%27`); the other encodings cover clients that
    write spaces as `%20`, or keep `*` and encode `~` as Java's encoder does. The order is the
    event's own, the order API Gateway received them in.
    """
    if not pairs:
        return [""]
    encoded = (urlencode(pairs, quote_via=quote_via) for quote_via in _QUERY_ENCODINGS)
    return list(dict.fromkeys(encoded))


def _percent_encoder(safe: str, space: str) -> Callable[..., str]:
    """`urllib.parse.quote` for one choice of safe characters and of the space's encoding, at the
    speed of `str.translate`: urllib encodes byte by byte in Python, which a forged GET with a
    long query of non-ASCII text would make costly."""
    table = {byte: f"%{byte:02X}" for byte in range(256) if chr(byte) not in safe}
    table[ord(" ")] = space

    def quote_via(text: str, *_: object) -> str:
        return text.encode("utf-8").decode("latin-1").translate(table)

    return quote_via


_UNRESERVED = string.ascii_letters + string.digits + "_.-~"
_QUERY_ENCODINGS = (
    _percent_encoder(_UNRESERVED, "+"),  # urllib's quote_plus: Twilio's encoding
    _percent_encoder(_UNRESERVED, "%20"),  # urllib's quote
    _percent_encoder(_UNRESERVED.replace("~", "*"), "+"),  # Java's URLEncoder
)
