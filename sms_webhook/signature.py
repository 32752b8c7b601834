"""Is this request really from Twilio? Checked with twilio's own RequestValidator.

Twilio signs the exact public URL it called (see `urls`) followed by the POST fields. The secret
is the auth token (any of them, during a rotation), or, when the request carries
`X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256`, the SharedKey secret of
that key id. Secrets are fetched only once the request has a signature to check.

The string Twilio signs glues the URL to the first field and each field's name to its value, with
no separator, so a captured request can be re-split (`MessageSid=SM…` sent as a field named
`MessageSidSM…`, a URL's query string moved into the fields) without breaking its signature. What
every such copy shares is the signature itself: `replay_key`.
"""

from enum import Enum
from functools import cache, lru_cache
from urllib.parse import urlparse

from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    compare,
    get_signature_algorithm,
    remove_port,
)

from sms_webhook.config import auth_tokens, shared_key
from sms_webhook.form import FormFields
from sms_webhook.proxy_event import HttpRequest
from sms_webhook.urls import public_urls


class Rejection(Enum):
    """Why a request was rejected: the value is the log line's `reason`, the name (lower-cased)
    the `rejection` dimension of the SignatureRejections metric."""

    MISSING = "missing X-Twilio-Signature header"
    EMPTY = "empty X-Twilio-Signature header"
    NO_URL = "no public URL to check against: set TWILIO_WEBHOOK_URL"
    UNSUPPORTED_ALGORITHM = "unsupported signature algorithm"
    UNKNOWN_KEY = "unknown SharedKey id"
    INVALID_URL = "the public URL is not a valid URL"
    MISMATCH = "signature does not match the URL and fields"


class Rejected(Exception):
    """The request's signature does not hold."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.value)
        self.rejection = rejection


def signing_secret(request: HttpRequest, fields: FormFields) -> str:
    """The secret the request was signed with; `Rejected` when it is not Twilio's.

    `fields` are the request's form fields; Twilio signs those of a POST after the URL, while a
    GET's are signed as part of the URL.
    """
    signature = request.headers.get(SIGNATURE_HEADER.lower())
    if signature is None:
        raise Rejected(Rejection.MISSING)
    if not signature.strip():
        raise Rejected(Rejection.EMPTY)
    urls = public_urls(request)
    if not urls:
        raise Rejected(Rejection.NO_URL)

    algorithm, secrets = _algorithm_and_secrets(request)
    signed_fields = fields if request.method == "POST" else {}
    try:
        for secret in secrets:
            validator = _validator(secret)
            for url in urls:
                if _signed(validator, url, signed_fields, signature, algorithm):
                    return secret
    except ValueError:  # urllib rejects the host, e.g. "[::1" or "host:port-that-is-not-a-number"
        raise Rejected(Rejection.INVALID_URL) from None
    raise Rejected(Rejection.MISMATCH)


def _algorithm_and_secrets(request: HttpRequest) -> tuple[str, list[str]]:
    """The auth tokens, or the SharedKey secret that the signature settings header names."""
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER.lower())
    if settings is None:
        return HMAC_SHA1, auth_tokens()
    algorithm: str = get_signature_algorithm(settings)
    if algorithm.upper() not in (HMAC_SHA1, HMAC_SHA256):
        raise Rejected(Rejection.UNSUPPORTED_ALGORITHM)
    secret = shared_key(_setting(settings, "key"))
    if secret is None:
        raise Rejected(Rejection.UNKNOWN_KEY)
    return algorithm, [secret]


def replay_key(request: HttpRequest) -> str:
    """What every copy of one signed request shares, however it is re-split: its signature.

    A copy must carry the very signature the original did (twilio's `compare` takes no other),
    and a signature is an HMAC of everything Twilio signed, so two requests that differ in what
    Twilio signed never share one. Call it once the signature holds.
    """
    return request.headers.get(SIGNATURE_HEADER.lower(), "")


def _signed(
    validator: RequestValidator,
    url: str,
    fields: FormFields | dict[str, list[str]],
    signature: str,
    algorithm: str,
) -> bool:
    """twilio's `validate()`, stopping at the first URL that matches.

    `validate()` always signs the URL twice (with and without `:443`, as Twilio may have done
    either); trying the URL as it is first makes a genuine request cost one signature instead of
    two. The signing and the constant-time comparison are twilio's own.
    """
    return any(
        compare(validator.compute_signature(candidate, fields, algorithm), signature)
        for candidate in _with_and_without_port(url)
    )


@lru_cache(maxsize=64)
def _with_and_without_port(url: str) -> tuple[str, ...]:
    """The URL as it is first, then with or without `:443`: a webhook's URL rarely changes."""
    parsed = urlparse(url)
    return tuple(dict.fromkeys((url, remove_port(parsed), add_port(parsed))))


@cache
def _validator(secret: str) -> RequestValidator:
    return RequestValidator(secret)


def _setting(header: str, name: str) -> str:
    """One `name=value` of the signature settings header (`key=...,algorithm=...`)."""
    for part in header.split(","):
        key, separator, value = part.partition("=")
        if separator and key.strip() == name:
            return value.strip()
    return ""
