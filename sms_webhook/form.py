"""The form fields of Twilio's request, read from the body (POST) or the query string (GET).

Twilio signs every field it sends, including empty ones and repeated names, so nothing may be
dropped or merged on the way: the signature would no longer match.

This runs before the signature is known, on whatever anyone sends, so its cost is bounded: the
form's size and number of fields are checked before anything is decoded, and percent-decoding is
done in C (see `_percent_decoded`) rather than per escape in Python as `urllib.parse` does, which
makes a body full of escapes cost about as much as a plain one (the benchmark measures the worst).
"""

import binascii
from collections.abc import Iterable

from sms_webhook.proxy_event import HttpRequest


class FormFields(dict[str, list[str]]):
    """Field names, in arrival order, each with every value it was sent with.

    `getall()` is the interface twilio's RequestValidator looks for to sign repeated names.
    """

    getall = dict.__getitem__
    """Every value of the field, in arrival order (a C call: twilio signs with it per field)."""

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


MAX_FORM_SIZE = 36 * 1024
"""Bytes of form data accepted. Twilio's largest request (a 1,600-character text of the characters
longest to form-encode, ten media items, every WhatsApp and ad-referral field at once:
`devtools.twilio_message.largest_message_fields`) is 32.7 KiB form-encoded. A request refused
for its size says how large it was, in the log, so that a real one would be seen."""

MAX_FIELDS = 80
"""Fields accepted in one request. Twilio's largest request has 64 (every optional field at once,
which no single message has); a message with ten media items and WhatsApp's fields has about 45.
Each field costs two passes of twilio's validator, so the cap keeps a forged body of many fields
cheap (the benchmark measures it)."""


MAX_QUERY_SIZE = 10 * 1024
"""Characters of a REST API GET's query string, as it was sent: API Gateway's REST API rejects a
URL longer than 10,240 characters itself. The event holds the query decoded; its shortest
encoding (each byte of a non-ASCII character as `%XX`) is what is measured, so no event claims a
query API Gateway could not have passed, whose re-encodings (see `urls`) would cost the more."""


class UndecodableError(ValueError):
    """The request's form data is not base64, UTF-8 or form encoding where it must be."""


class TooLargeError(ValueError):
    """The request's form data is larger, or has more fields, than any request Twilio sends."""


class EmptyFormError(ValueError):
    """A POST without a single field: Twilio never sends one, but a GET signature (which covers
    the URL alone) would hold for it."""


def decode_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """The body as bytes, whichever way the front door delivered it.

    Its size is checked first, so a huge body costs no decoding.
    """
    if not body:
        return b""
    if is_base64_encoded:
        if len(body) * 3 // 4 - body[-2:].count("=") > MAX_FORM_SIZE:
            raise TooLargeError(f"the body is larger than {MAX_FORM_SIZE} bytes")
        try:
            return binascii.a2b_base64(body, strict_mode=True)
        except ValueError as error:  # binascii.Error, or non-ASCII input
            raise UndecodableError("the body is not base64") from error
    return _utf8(body, "the body")


def parse_form(data: bytes) -> FormFields:
    """Fields of `application/x-www-form-urlencoded` data (a body or a raw query string), read
    as `urllib.parse.parse_qsl(keep_blank_values=True, errors="strict")` reads them, except that
    a `%` must be followed by two hex digits (Twilio encodes every `%` it sends).

    The names and values are joined with a byte UTF-8 never holds, decoded in one go (see
    `_percent_decoded`), and split again: a field costs a few Python steps, not a decoding each.
    """
    if len(data) > MAX_FORM_SIZE:
        raise TooLargeError(f"the form is {len(data)} bytes, more than {MAX_FORM_SIZE}")
    fields = data.split(b"&", MAX_FIELDS)
    if len(fields) > MAX_FIELDS:
        raise TooLargeError(f"the form has more than {MAX_FIELDS} fields")
    pieces: list[bytes] = []
    for field in fields:
        if field:
            name, _, value = field.partition(b"=")
            pieces += (name, value)
    if not pieces:
        return FormFields()
    decoded = _percent_decoded(_SEPARATOR.join(pieces)).split(_SEPARATOR)
    if len(decoded) != len(pieces):  # an escape decoded to the separator: not UTF-8
        raise UndecodableError("a percent-encoded field is not UTF-8")
    try:
        texts = [piece.decode("utf-8") for piece in decoded]
    except UnicodeDecodeError as error:
        raise UndecodableError("a percent-encoded field is not UTF-8") from error
    return FormFields.from_pairs(zip(texts[::2], texts[1::2], strict=True))


_SEPARATOR = b"\xff"
"""A byte no UTF-8 text holds: a field that decodes to it is rejected as not UTF-8 anyway."""


def request_fields(request: HttpRequest) -> FormFields:
    """The fields Twilio sent: the form body of a POST, the query string of a GET."""
    if request.method == "POST":
        fields = parse_form(decode_body(request.body, request.is_base64_encoded))
        if not fields:
            raise EmptyFormError("a POST without form fields")
        return fields
    if request.raw_query is None:
        pairs = request.decoded_query
        if len(pairs) > MAX_FIELDS:
            raise TooLargeError(f"the query string has more than {MAX_FIELDS} fields")
        encoded = sum(
            _shortest_encoding(name) + _shortest_encoding(value) + 2 for name, value in pairs
        )
        if encoded > MAX_QUERY_SIZE:
            raise TooLargeError(f"the query string is over {MAX_QUERY_SIZE} characters encoded")
        return FormFields.from_pairs(pairs)
    return parse_form(_utf8(request.raw_query, "the query string"))


def _shortest_encoding(text: str) -> int:
    """The fewest characters `text` takes in a URL: ASCII as it is, each other byte as `%XX`."""
    ascii_characters = len(text.encode("ascii", "ignore"))
    return ascii_characters + 3 * (len(text.encode("utf-8", "surrogatepass")) - ascii_characters)


def _utf8(text: str, what: str) -> bytes:
    """The text's UTF-8 bytes; checked for size first, as a character is at least one byte."""
    if len(text) > MAX_FORM_SIZE:
        raise TooLargeError(f"{what} is larger than {MAX_FORM_SIZE} bytes")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:  # an unpaired surrogate, which JSON can carry
        raise UndecodableError(f"{what} is not valid text") from error


def _percent_decoded(encoded: bytes) -> bytes:
    """`+` as a space and `%XX` as a byte, in a few C calls whatever the number of escapes.

    Quoted-printable writes a byte as `=XX` where a form writes `%XX`: once each literal `=` is
    written `=3D`, `binascii.a2b_qp` decodes the escapes. Each valid escape shortens the text by
    two bytes; a `%` not followed by two hex digits shortens it less (a2b_qp keeps it, or drops a
    trailing one alone), and one followed by a line break would be read as a soft line break, so
    those are rejected. Tests compare the result with `urllib.parse` on generated forms.
    """
    if b"%" not in encoded:
        return encoded.replace(b"+", b" ")
    if (b"\r" in encoded or b"\n" in encoded) and (b"%\r" in encoded or b"%\n" in encoded):
        raise UndecodableError("a % in the form is not followed by two hex digits")
    literal = encoded.replace(b"=", b"=3D") if b"=" in encoded else encoded
    decoded = binascii.a2b_qp(literal.translate(_FORM_TO_QUOTED_PRINTABLE))
    if len(decoded) != len(encoded) - 2 * encoded.count(b"%"):
        raise UndecodableError("a % in the form is not followed by two hex digits")
    return decoded


_FORM_TO_QUOTED_PRINTABLE = bytes.maketrans(b"%+", b"= ")
