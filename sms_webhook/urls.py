"""The public URL Twilio called, rebuilt from what the front door tells the function.

Twilio signs the exact URL it called (the public one, e.g. the API's stage URL, never the path
Lambda routes on), so signatures are checked against it, and status callbacks are asked for on
its sibling `/status`:

- API Gateway REST: `https://{requestContext.domainName}{requestContext.path}`. The path is the
  one on the host that was called: `/Prod/sms` on execute-api, or the custom domain's path with its
  base path mapping. The query string arrives decoded, so it is encoded again (see below).
- HTTP API and Function URLs (payload 2.0): `https://{requestContext.domainName}{rawPath}` and
  the raw query string, byte for byte; then the same query with some characters escaped or
  written out (see below), should Twilio have signed other bytes than it sent.
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
    return [_with_query(base, query) for query in _query_strings(request)]


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


def _query_strings(request: HttpRequest) -> list[str]:
    """The query strings Twilio may have signed for this request, the likeliest first. They
    differ only in how they write `'`, `:`, `@`, `*`, `~` and spaces, so form decoding reads the
    same fields from each: a signature made for other fields holds for none of them.

    A raw query (payload 2.0) is tried as it is, then as Twilio signs (below), then with its
    apostrophes escaped, for a URL signed so. The REST API's decoded query is form-encoded again
    (urllib's `quote_plus`), then tried as Twilio signs, as it is, with spaces as `%20` (urllib's
    `quote`), and as Java's `URLEncoder` writes it (`*` kept, `~` escaped).
    """
    if request.raw_query is not None:
        raw = request.raw_query
        return _distinct(raw, *_as_twilio_signs(raw), raw.replace("'", "%27"))
    if not request.decoded_query:
        return [""]
    as_form = urlencode(request.decoded_query, quote_via=_quote_plus)
    return _distinct(
        *_as_twilio_signs(as_form),
        as_form,
        as_form.replace("+", "%20"),  # a + in the form encoding is always a space
        as_form.replace("%2A", "*").replace("~", "%7E"),
    )


def _as_twilio_signs(query: str) -> tuple[str, str]:
    """The query with its apostrophes as they are, as Twilio signs them (twilio-ruby #528,
    twilio-node #1059 and #1183, twilio-node's vector `Body=It's+amazing`), then with `:` and `@`
    as they are too, as Twilio is reported to sign them once (twilio-node #621).

    Twilio's encoding is not documented. Its other differences from urllib's, if any, are not
    reported: `*` and `~` are left as Java's encoder and urllib's write them, and `!$(),;/?`
    escaped, as both do.
    """
    apostrophes = query.replace("%27", "'")
    return apostrophes, apostrophes.replace("%3A", ":").replace("%40", "@")


def _distinct(*queries: str) -> list[str]:
    return list(dict.fromkeys(queries))


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
