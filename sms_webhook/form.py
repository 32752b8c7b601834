"""The form fields of Twilio's request, read from the body (POST) or the query string (GET).

Twilio signs every field it sends, including empty ones and repeated names, so nothing may be
dropped or merged on the way: the signature would no longer match.
"""

import base64
from collections.abc import Iterable
from urllib.parse import parse_qsl

from sms_webhook.proxy_event import HttpRequest


class FormFields(dict[str, list[str]]):
    """Field names, in arrival order, each with every value it was sent with.

    `getall()` is the interface twilio's RequestValidator looks for to sign repeated names.
    """

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str:
        """The field's first value, or "" when Twilio did not send it."""
        values = self.get(name)
        return values[0] if values else ""

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> "FormFields":
        fields = cls()
        for name, value in pairs:
            fields.setdefault(name, []).append(value)
        return fields


MAX_FORM_SIZE = 64 * 1024
"""Bytes of form data accepted. Twilio's largest request (1,600 characters of text, ten media
URLs, every other field) is a few kilobytes; anything near this is not Twilio."""


class UndecodableError(ValueError):
    """The request's form data is not base64, UTF-8 or form encoding where it must be."""


class TooLargeError(ValueError):
    """The request's form data is larger than any request Twilio sends."""


def decode_body(body: str | None, is_base64_encoded: bool) -> str:
    """The body as text, whichever way the front door delivered it.

    Its size is checked first, so a huge body costs no decoding or parsing.
    """
    if not body:
        return ""
    if _decoded_size(body, is_base64_encoded) > MAX_FORM_SIZE:
        raise TooLargeError(f"the body is larger than {MAX_FORM_SIZE} bytes")
    if not is_base64_encoded:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except ValueError as error:  # binascii.Error, UnicodeDecodeError, or non-ASCII input
        raise UndecodableError("the body is not base64-encoded UTF-8 text") from error


def _decoded_size(body: str, is_base64_encoded: bool) -> int:
    return len(body) * 3 // 4 - body[-2:].count("=") if is_base64_encoded else len(body)


def parse_form(text: str) -> FormFields:
    """Fields of an `application/x-www-form-urlencoded` string (a body or a raw query string)."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise UndecodableError("a percent-encoded field is not UTF-8") from error
    return FormFields.from_pairs(pairs)


def request_fields(request: HttpRequest) -> FormFields:
    """The fields Twilio sent: the form body of a POST, the query string of a GET."""
    if request.method == "POST":
        return parse_form(decode_body(request.body, request.is_base64_encoded))
    if request.raw_query is None:
        return FormFields.from_pairs(request.decoded_query)
    if len(request.raw_query) > MAX_FORM_SIZE:
        raise TooLargeError(f"the query string is longer than {MAX_FORM_SIZE} characters")
    return parse_form(request.raw_query)
