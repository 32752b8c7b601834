"""Is this request really from Twilio? Checked with twilio's own RequestValidator.

Twilio signs the exact public URL it called (see `urls`) followed by the POST fields. The secret
is the auth token (any of them, during a rotation), or, when the request carries
`X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256`, the SharedKey secret of
that key id. Secrets are fetched only once the request has a signature to check.
"""

from enum import Enum

from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from sms_webhook.config import auth_tokens, shared_key
from sms_webhook.form import FormFields
from sms_webhook.proxy_event import ProxyEvent
from sms_webhook.urls import public_urls


class Rejection(Enum):
    """Why a request was refused; the name is the `reason` dimension of the metric."""

    MISSING = "missing X-Twilio-Signature header"
    EMPTY = "empty X-Twilio-Signature header"
    NO_URL = "no public URL to check against: set TWILIO_WEBHOOK_URL"
    UNSUPPORTED_ALGORITHM = "unsupported signature algorithm"
    UNKNOWN_KEY = "unknown SharedKey id"
    INVALID_URL = "the public URL is not a valid URL"
    MISMATCH = "signature does not match the URL and fields"


def rejection_reason(event: ProxyEvent, fields: FormFields) -> Rejection | None:
    """Why the request is not Twilio's, or None when its signature holds.

    `fields` are the request's form fields; Twilio signs those of a POST after the URL, while a
    GET's are signed as part of the URL.
    """
    signature = event.headers.get(SIGNATURE_HEADER)
    if signature is None:
        return Rejection.MISSING
    if not signature.strip():
        return Rejection.EMPTY
    urls = public_urls(event)
    if not urls:
        return Rejection.NO_URL

    settings = event.headers.get(SIGNATURE_SETTINGS_HEADER)
    if settings is None:
        algorithm, secrets = HMAC_SHA1, auth_tokens()
    else:
        algorithm = get_signature_algorithm(settings)
        if algorithm.upper() not in (HMAC_SHA1, HMAC_SHA256):
            return Rejection.UNSUPPORTED_ALGORITHM
        secret = shared_key(_setting(settings, "key"))
        if secret is None:
            return Rejection.UNKNOWN_KEY
        secrets = [secret]

    signed_fields = fields if event.http_method.upper() == "POST" else {}
    try:
        for secret in secrets:
            validator = RequestValidator(secret)
            if any(validator.validate(url, signed_fields, signature, algorithm) for url in urls):
                return None
    except ValueError:  # urllib refuses the host, e.g. "[::1" or "host:port-that-is-not-a-number"
        return Rejection.INVALID_URL
    return Rejection.MISMATCH


def _setting(header: str, name: str) -> str:
    """One `name=value` of the signature settings header (`key=...,algorithm=...`)."""
    for part in header.split(","):
        key, separator, value = part.partition("=")
        if separator and key.strip() == name:
            return value.strip()
    return ""
