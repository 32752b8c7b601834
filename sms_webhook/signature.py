"""Is this request really from Twilio? Checked with twilio's own RequestValidator.

Twilio signs the exact URL it called (the public one, e.g. the API's stage URL, never the path
Lambda sees) followed by the POST fields. So the work here is to rebuild that URL from what the
front door tells the function:

- API Gateway REST: `https://{requestContext.domainName}{requestContext.path}`. The path is the
  one on the host that was called: `/Prod/sms` on execute-api, or the custom domain's path with its
  base path mapping. The query string arrives decoded, so it is encoded again (see below).
- HTTP API and Function URLs (payload 2.0): `https://{requestContext.domainName}{rawPath}` and
  the raw query string, byte for byte.
- `TWILIO_WEBHOOK_URL`, when set, replaces the scheme, host and path (and the query string, unless
  the request brought one): for proxies, CloudFront, tunnels, and HTTP API custom-domain mappings.

The secret is the auth token (any of them, during a rotation), or, when the request carries
`X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256`, the SharedKey secret of
that key id. Secrets are fetched only once the request has a signature to check.
"""

from urllib.parse import quote, quote_plus, urlencode

from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from sms_webhook.config import auth_tokens, shared_key, webhook_url_override
from sms_webhook.form import FormFields, rest_query_pairs
from sms_webhook.proxy_event import ProxyEvent


def rejection_reason(event: ProxyEvent, fields: FormFields) -> str | None:
    """Why the request is not Twilio's, or None when its signature holds.

    `fields` are the request's form fields; Twilio signs those of a POST after the URL, while a
    GET's are signed as part of the URL.
    """
    signature = event.headers.get(SIGNATURE_HEADER)
    if signature is None:
        return "missing X-Twilio-Signature header"
    if not signature.strip():
        return "empty X-Twilio-Signature header"
    urls = public_urls(event)
    if not urls:
        return "no public URL to check against: set TWILIO_WEBHOOK_URL"

    settings = event.headers.get(SIGNATURE_SETTINGS_HEADER)
    if settings is None:
        algorithm, secrets = HMAC_SHA1, auth_tokens()
    else:
        algorithm = get_signature_algorithm(settings)
        if algorithm.upper() not in (HMAC_SHA1, HMAC_SHA256):
            return "unsupported signature algorithm"
        secret = shared_key(_setting(settings, "key"))
        if secret is None:
            return "unknown SharedKey id"
        secrets = [secret]

    signed_fields = fields if event.http_method.upper() == "POST" else {}
    try:
        for secret in secrets:
            validator = RequestValidator(secret)
            if any(validator.validate(url, signed_fields, signature, algorithm) for url in urls):
                return None
    except ValueError:  # urllib refuses the host, e.g. "[::1" or "host:port-that-is-not-a-number"
        return "the public URL is not a valid URL"
    return "signature does not match the URL and fields"


def _setting(header: str, name: str) -> str:
    """One `name=value` of the signature settings header (`key=...,algorithm=...`)."""
    for part in header.split(","):
        key, separator, value = part.partition("=")
        if separator and key.strip() == name:
            return value.strip()
    return ""


def public_urls(event: ProxyEvent) -> list[str]:
    """The URLs Twilio may have called to make this request, the likeliest first."""
    if isinstance(event, APIGatewayProxyEventV2):
        path = event.raw_path
        query_strings = [event.get("rawQueryString") or ""]
    else:
        path = event.request_context.get("path") or event.path
        query_strings = _rest_query_strings(event)

    base = webhook_url_override()
    if base is None:
        domain = event.request_context.get("domainName")
        if not domain:
            return []
        base = f"https://{domain}{path}"
    return [_with_query(base, query) for query in query_strings]


def public_url_for_logs(event: ProxyEvent) -> str:
    """The public URL without its query string, which may carry phone numbers and text."""
    urls = public_urls(event)
    return urls[0].partition("?")[0] if urls else ""


def _with_query(url: str, query: str) -> str:
    return f"{url.partition('?')[0]}?{query}" if query else url


def _rest_query_strings(event: APIGatewayProxyEvent) -> list[str]:
    """Query strings, re-encoded from API Gateway's decoded parameters, that Twilio may have sent.

    Twilio form-encodes (spaces as `+`, `'` as `%27`); the other encodings cover clients that
    write spaces as `%20`, or keep `*` and encode `~` as Java's encoder does. The order is the
    event's own, the order API Gateway received them in.
    """
    pairs = rest_query_pairs(event)
    encoded = (urlencode(pairs, quote_via=quote_via) for quote_via in _QUERY_ENCODINGS)
    return list(dict.fromkeys(encoded))


def _quote_plus_like_java(string: str, safe: str = "", encoding=None, errors=None) -> str:
    return quote_plus(string, safe="*", encoding=encoding, errors=errors).replace("~", "%7E")


_QUERY_ENCODINGS = (quote_plus, quote, _quote_plus_like_java)
