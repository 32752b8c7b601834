"""Smart encoding: look-alike characters replaced so that a text stays GSM-7 (opt-in).

One curly quote, long dash or non-breaking space, pasted from a word processor, sends a whole text
in UCS-2: 70 characters a segment instead of 160, two or three times the price. Twilio's Messaging
Services can replace such characters ("Smart Encoding"), and so can a message sent with its REST
API, but a TwiML reply cannot ask for it. With `SMART_ENCODING=on` (the `SmartEncoding` parameter),
the webhook's replies and the worker's texts to phone numbers are smart-encoded here, before Twilio
sees them, so that what is counted (`sms_webhook/segments.py`) is what is sent; WhatsApp and the
other channels carry any character at no extra cost, and are left alone.

The characters and what replaces them are Twilio's list (twilio.com/docs/messaging/services/
smart-encoding-char-list), as its segment calculator holds it (github.com/TwilioDevEd/
message-segment-calculator, `SmartEncodingMap`), with these choices where copies of the list
disagree or the replacement would not look like the character: every odd space (no-break, thin,
ideographic..., a tab, a line or paragraph separator) becomes one space; invisible characters
(zero-width space, word joiner, byte order mark, the control characters listed) are dropped; the
single angle quotation marks (U+2039, U+203A) become `<` and `>`, not the other way round.

As Twilio does, a text is changed only when that makes it GSM-7: one that stays UCS-2 anyway (an
emoji, Japanese) keeps its curly quotes, which cost nothing more there.
"""

from sms_webhook.segments import GSM_7, encoding

_REPLACED_BY = {
    # double quotes: curly, angle, low, primes, ornaments, fullwidth
    '"': "\u00ab\u00bb\u201c\u201d\u02ba\u02ee\u201f\u201e\u275d\u275e\u301d\u301e\uff02",
    # single quotes, apostrophes, accents, primes, vertical commas
    "'": "\u2018\u2019\u02bb\u02c8\u02bc\u02bd\u02b9\u201b\uff07\u00b4\u02ca\u0060\u02cb"
    "\u275b\u275c\u0313\u0314\ufe10\ufe11",
    "/": "\u00f7\u29f8\u0337\u0338\u2044\u2215\uff0f",
    "\\": "\u29f9\u29f5\u20e5\ufe68\uff3c",
    "_": "\u0332\uff3f\u2017",
    "|": "\u20d2\u20d3\u2223\uff5c\u23b8\u23b9\u23d0\u239c\u239f",
    # dashes (en, em, horizontal bar), hyphens, bullets
    "-": "\u2013\u2014\u2015\u2010\u2043\u2022\u23bc\u23bd\ufe63\uff0d",
    "@": "\ufe6b\uff20",
    "$": "\ufe69\uff04",
    "!": "\u01c3\ufe15\ufe57\uff01",
    "#": "\ufe5f\uff03",
    "%": "\ufe6a\uff05",
    "&": "\ufe60\uff06",
    ",": "\u201a\u0326\ufe50\ufe51\uff0c\uff64\u3001",
    "(": "\u2768\u276a\ufe59\uff08\u27ee\u2985",
    ")": "\u2769\u276b\ufe5a\uff09\u27ef\u2986",
    "*": "\u204e\u2217\u229b\u2722\u2723\u2724\u2725\u2731\u2732\u2733\u273a\u273b\u273c"
    "\u273d\u2743\u2749\u274a\u274b\u29c6\ufe61\uff0a",
    "+": "\u02d6\ufe62\uff0b",
    ".": "\u3002\ufe52\uff0e\uff61",
    ":": "\u02d0\u02f8\u2982\ua789\ufe13\uff1a",
    ";": "\u204f\ufe14\ufe54\uff1b",
    "<": "\ufe64\uff1c\u2039",
    "=": "\u0347\ua78a\ufe66\uff1d",
    ">": "\ufe65\uff1e\u203a",
    "?": "\ufe16\ufe56\uff1f",
    "^": "\u02c6\u0302\uff3e\u1dcd",
    "{": "\u2774\ufe5b\uff5b",
    "}": "\u2775\ufe5c\uff5d",
    "[": "\uff3b",
    "]": "\uff3d",
    "~": "\u02dc\u02f7\u0303\u0330\u0334\u223c\uff5e",
    "1/4": "\u00bc",
    "1/2": "\u00bd",
    "3/4": "\u00be",
    "!!": "\u203c",
    "...": "\u2026",
    " ": "\t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
    "\u205f\u3000\u2028\u2029",
    "": "\u200b\u2060\ufeff\x00\x03\x04\x10\x11\x12\x13\x14\x17\x19\x80\x8d\x90\x9b\x9f",
}
"""Each replacement, and the characters it replaces."""

_SMALL_CAPITALS = (
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22"
)
"""The small capitals Twilio replaces, from A to Z (no Q or X), each by its capital."""
_FULLWIDTH_A = 0xFF21
"""The fullwidth A; B to Z follow it."""
_FULLWIDTH_0 = 0xFF10
"""The fullwidth 0; 1 to 9 follow it."""

LOOK_ALIKES: dict[int, str] = {
    **{ord(character): by for by, characters in _REPLACED_BY.items() for character in characters},
    **{
        ord(small): capital
        for small, capital in zip(_SMALL_CAPITALS, "ABCDEFGHIJKLMNOPRSTUVWYZ", strict=True)
    },
    **{_FULLWIDTH_A + offset: chr(ord("A") + offset) for offset in range(26)},
    **{_FULLWIDTH_0 + digit: str(digit) for digit in range(10)},
}
"""What `str.translate` replaces: the table above, the small capitals, and the fullwidth capitals
and digits (U+FF21 to U+FF3A, U+FF10 to U+FF19)."""


def smart_encoded(text: str) -> str:
    """The text with its look-alikes replaced, when that makes it GSM-7; else the text as it is."""
    if encoding(text) == GSM_7:
        return text
    replaced = text.translate(LOOK_ALIKES)
    return replaced if encoding(replaced) == GSM_7 else text
