"""How many SMS segments a text is sent as, and in which encoding: what Twilio bills an SMS by.

An SMS carries 140 bytes: 160 characters of GSM-7 (GSM 03.38's 7-bit alphabet), or 70 UTF-16
code units of UCS-2 as soon as one character is outside GSM-7's basic and extension tables. A
longer text is cut into segments that each give 6 bytes to the header that joins them again on
the phone: 153 GSM-7 characters, or 67 UCS-2 units, per segment. A character of the extension
table (`^ { } \\ [ ~ ] | €` and form feed) takes two septets, an escape and itself; a character
outside the Basic Multilingual Plane (most emoji) takes two UTF-16 units, a surrogate pair.
Neither pair is cut between two segments, so a segment may hold one unit less, and a text may
need one segment more than its length divided by 153 or 67 says.

Sources: twilio.com/docs/glossary/what-sms-character-limit, and Twilio's segment calculator
(github.com/TwilioDevEd/message-segment-calculator), whose examples tests/test_segments.py
checks. The calculator keeps a whole grapheme (a flag, a family emoji) in one segment; this
module keeps only the pairs above together: at a segment's end, such a grapheme may count one
segment less here than in the calculator.

Only SMS is billed per segment: an MMS and a message on WhatsApp or another channel are priced
per message, whatever their length (`billed_segments`).
"""

from collections.abc import Callable, Iterable, Sequence
from functools import partial

from sms_webhook.config import smart_encoding_enabled

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

GSM_7_ALONE = 160
"""Septets of a text sent in one segment."""
GSM_7_JOINED = 153
"""Septets of each segment of a longer text (7 go to the header)."""
UCS_2_ALONE = 70
"""UTF-16 units of a text sent in one segment."""
UCS_2_JOINED = 67
"""UTF-16 units of each segment of a longer text (3 go to the header)."""

_EXTENSION = frozenset("\f^{}\\[~]|€")
"""GSM 03.38's extension table: each of these takes two septets."""
_GSM_7 = _EXTENSION | frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""Every character GSM-7 carries: the basic table's 127 (its 128th is the escape) and the
extension table's 10."""

_GSM_7_ASCII = b"\n\f\r" + bytes(range(ord(" "), ord("`"))) + bytes(range(ord("a"), ord("~") + 1))
"""The 97 ASCII characters GSM-7 carries, as bytes to delete with `bytes.translate`: line feed,
form feed, carriage return, and every printable one but the backquote."""

_ESCAPE = "\x1b"
"""What comes before an extension character's own septet."""


Segments = tuple[int, str | None]
"""How a text is sent as SMS, or several messages summed: how many segments, and their encoding,
`GSM_7` or `UCS_2` (summed: UCS-2 when any message is; None when nothing goes as SMS). A plain
tuple: a NamedTuple would add some 85 µs to every cold start."""

NOT_SMS: Segments = (0, None)
"""A message Twilio does not bill per segment."""


def encoding(text: str) -> str:
    """`GSM_7` when every character is in GSM-7's tables, else `UCS_2`."""
    return GSM_7 if _in_gsm_7(text) else UCS_2


def _in_gsm_7(text: str) -> bool:
    """Whether GSM-7 carries every character of the text. An ASCII text is checked in C, its
    bytes GSM-7 carries deleted and nothing left: 1,600 characters in 1 µs rather than 14."""
    if text.isascii():
        return not text.encode().translate(None, _GSM_7_ASCII)
    return _GSM_7.issuperset(text)


def segments(text: str) -> Segments:
    """The segments the text is sent as by SMS, and their encoding. An empty text is one segment,
    as Twilio's calculator counts it (the webhook and the worker never send one without media)."""
    if _in_gsm_7(text):
        septets = text
        for character in _EXTENSION:  # str.replace is faster than str.translate to two
            if character in septets:
                septets = septets.replace(character, _ESCAPE + character)
        escape_parted = partial(_escape_parted, septets)
        return _count(len(septets), GSM_7_ALONE, GSM_7_JOINED, escape_parted), GSM_7
    units = text.encode("utf-16-be", "surrogatepass")
    pair_parted = partial(_pair_parted, units)
    return _count(len(units) // 2, UCS_2_ALONE, UCS_2_JOINED, pair_parted), UCS_2


def _escape_parted(septets: str, cut: int) -> bool:
    """Whether cutting before septet `cut` parts an escape from its character."""
    return septets[cut - 1] == _ESCAPE


_FIRST_OF_PAIR, _SECOND_OF_PAIR, _LAST_SECOND = 0xD8, 0xDC, 0xDF
"""The first byte of a UTF-16-BE unit: 0xD8 to 0xDB for the first of a surrogate pair, 0xDC to
0xDF for the second."""


def _pair_parted(units: bytes, cut: int) -> bool:
    """Whether cutting the UTF-16-BE `units` before unit `cut` parts a surrogate pair. (Half of
    one alone, which a Python str may hold but no text sent does, is one unit.)"""
    return _FIRST_OF_PAIR <= units[2 * cut - 2] < _SECOND_OF_PAIR <= units[2 * cut] <= _LAST_SECOND


def _count(length: int, alone: int, joined: int, parted: Callable[[int], bool]) -> int:
    """Segments of a text of `length` units: cut every `joined` units, a unit earlier where the
    cut would part a pair (`parted(cut)`), as a carrier cuts it. Only the cuts are looked at: a
    message of 1,600 UTF-16 units takes 24 steps at most."""
    if length <= alone:
        return 1
    count, start = 0, 0
    while start < length:
        cut = start + joined
        if cut < length and parted(cut):
            cut -= 1
        count, start = count + 1, cut
    return count


def billed_segments(body: str, media: Sequence[str], to: str) -> Segments:
    """What a message to `to` is billed as per segment: its text's segments by SMS; none for a
    message with media, which Twilio sends as an MMS (one message, its text up to 1,600
    characters), or to a channel's address (`whatsapp:+1…`), priced per message."""
    if media or not on_sms(to):
        return NOT_SMS
    return segments(body)


def smart_encodes_for(to: str) -> bool:
    """Whether texts to `to` have their look-alikes replaced (`sms_webhook/smart_encoding.py`):
    the setting is on, and `to` is a phone number."""
    return on_sms(to) and smart_encoding_enabled()


def on_sms(to: str) -> bool:
    """Whether `to` is a phone number or a short code (SMS, MMS), not a channel's address."""
    return ":" not in to


def total(parts: Iterable[Segments]) -> Segments:
    """Several messages' segments, summed: UCS-2 when any of them is."""
    count, encodings = 0, set()
    for segments_of_one, encoding_of_one in parts:
        count += segments_of_one
        encodings.add(encoding_of_one)
    if UCS_2 in encodings:
        return count, UCS_2
    return count, GSM_7 if GSM_7 in encodings else None
