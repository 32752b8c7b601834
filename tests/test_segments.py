"""A text's SMS segments and encoding, counted as Twilio bills them: checked against Twilio's
published examples, its segment calculator's cases and the GSM 03.38 tables."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_webhook.segments import (
    GSM_7,
    NOT_SMS,
    UCS_2,
    billed_segments,
    encoding,
    segments,
    total,
)

DIGITS = "1234567890"
EXTENSION = "^{}\\[~]|€\f"
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""GSM 03.38's basic table, in its order (0x00 to 0x7F, without the escape at 0x1B)."""
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
"""Four characters, six UTF-16 units."""
TRIPLE_ACCENT = "\u00e9\u0301\u0301\u0301"
"""An e with three acute accents: four characters."""


def digits(count: int) -> str:
    """`count` digits, "123...", as the calculator's examples write them."""
    return (DIGITS * (count // 10 + 1))[:count]


# Twilio's published examples


def test_160_characters_are_one_segment_and_161_are_two_of_153_and_8():
    """twilio.com/docs/glossary/what-sms-character-limit."""
    assert segments("a" * 160) == (1, GSM_7)
    assert segments("a" * 161) == (2, GSM_7)


def test_200_characters_are_two_segments_and_150_with_one_non_gsm_character_three():
    """Twilio's support article on messages over 160 characters (two segments at $0.0079 each;
    three for 150 characters with a non-GSM character)."""
    assert segments("a" * 200) == (2, GSM_7)
    assert segments("a" * 149 + "ş") == (3, UCS_2)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (digits(160), (1, GSM_7)),
        (digits(161), (2, GSM_7)),
        (digits(307), (3, GSM_7)),
        ("😜" + digits(69)[1:], (1, UCS_2)),
        ("😜" + digits(70)[1:], (2, UCS_2)),
        ("😜" + digits(134)[1:], (3, UCS_2)),
        ("🇮🇹" + digits(67)[1:], (1, UCS_2)),
        ("🇮🇹" + digits(68)[1:], (2, UCS_2)),
        (RAINBOW_FLAG + digits(65)[1:], (1, UCS_2)),
        (RAINBOW_FLAG + digits(66)[1:], (2, UCS_2)),
        ("😀" + "]" * 68, (1, UCS_2)),
        ("😀" + "]" * 69, (2, UCS_2)),
        ("Á" * 70, (1, UCS_2)),
        ("Á" * 71, (2, UCS_2)),
        (TRIPLE_ACCENT + "a" * 66, (1, UCS_2)),
        (TRIPLE_ACCENT + "a" * 67, (2, UCS_2)),
    ],
)
def test_the_segment_calculators_cases(body, expected):
    """Twilio's segment calculator's tests (github.com/TwilioDevEd/message-segment-calculator,
    tests/index.test.js): a flag is four UTF-16 units, a rainbow flag six."""
    assert segments(body) == expected


@pytest.mark.parametrize("escaped", EXTENSION)
def test_an_extension_character_takes_two_septets(escaped):
    """The calculator's escape-character cases: one of them and 158 digits fill one segment."""
    assert segments(escaped + digits(158)) == (1, GSM_7)
    assert segments(escaped + digits(159)) == (2, GSM_7)


# GSM 03.38's tables


def test_every_character_of_the_basic_and_extension_tables_is_gsm_7():
    assert len(BASIC) == 127
    assert encoding(BASIC + EXTENSION) == GSM_7
    assert segments(BASIC) == (1, GSM_7)


def test_an_ascii_character_is_gsm_7_when_the_tables_hold_it():
    """ASCII texts are checked another, faster way: it agrees with the tables."""
    ascii_characters = list(map(chr, range(128)))
    in_tables = [character in BASIC + EXTENSION for character in ascii_characters]

    assert [encoding(character) == GSM_7 for character in ascii_characters] == in_tables
    assert [encoding("\u00e9" + c) == GSM_7 for c in ascii_characters] == in_tables


@pytest.mark.parametrize(
    "character",
    ["`", "\t", "\x1b", "ç", "á", "Ş", "ł", "\u00a0", "“", "—", "…", "€\u0301", "😀", "日"],
)
def test_one_character_outside_both_tables_makes_the_whole_text_ucs_2(character):
    assert encoding("Hello " + character) == UCS_2


# Japanese, emoji, boundaries


def test_a_japanese_reply_of_100_characters_is_two_segments():
    assert segments("こんにちは" * 20) == (2, UCS_2)


def test_an_emoji_is_two_ucs_2_units():
    assert segments("😀" * 35) == (1, UCS_2)
    assert segments("😀" * 36) == (2, UCS_2)


@pytest.mark.parametrize(
    ("length", "count"),
    [(160, 1), (161, 2), (153 * 2, 2), (153 * 2 + 1, 3), (153 * 3, 3), (1600, 11)],
)
def test_gsm_7_boundaries(length, count):
    assert segments("x" * length) == (count, GSM_7)


@pytest.mark.parametrize(
    ("length", "count"), [(70, 1), (71, 2), (67 * 2, 2), (67 * 2 + 1, 3), (1600, 24)]
)
def test_ucs_2_boundaries(length, count):
    assert segments("é" * (length - 1) + "ş") == (count, UCS_2)


def test_a_surrogate_pair_at_a_segments_end_goes_whole_to_the_next():
    """66 units and an emoji: the emoji does not fit in the first 67, so the first segment holds
    66, the second the emoji and 65, the third the last character: 134 units in 3 segments."""
    assert segments("あ" * 66 + "😀" + "あ" * 66) == (3, UCS_2)
    assert segments("あ" * 65 + "😀" + "あ" * 67) == (2, UCS_2)


def test_an_extension_character_at_a_segments_end_goes_whole_to_the_next():
    """306 septets would fill two segments, but the euro's escape and itself cannot be parted."""
    assert segments("a" * 152 + "€" + "a" * 152) == (3, GSM_7)
    assert segments("a" * 151 + "€" + "a" * 153) == (2, GSM_7)


def test_an_empty_text_is_one_segment_as_twilios_calculator_counts_it():
    assert segments("") == (1, GSM_7)


def test_half_a_character_is_counted_as_one_ucs_2_unit():
    assert segments("\ud83d" * 70) == (1, UCS_2)


# What is billed per segment


def test_a_text_to_a_phone_number_is_billed_by_its_segments():
    assert billed_segments("こんにちは" * 20, (), "+14155551234") == (2, UCS_2)
    assert billed_segments("hi", (), "12345") == (1, GSM_7)


def test_an_mms_or_a_message_on_another_channel_is_not_billed_per_segment():
    assert billed_segments("a" * 500, ("https://example.com/cat.png",), "+14155551234") == NOT_SMS
    assert billed_segments("a" * 500, (), "whatsapp:+14155551234") == NOT_SMS
    assert NOT_SMS == (0, None)


def test_several_messages_sum_their_segments_and_are_ucs_2_when_one_is():
    assert total([(1, GSM_7), (2, UCS_2), NOT_SMS]) == (3, UCS_2)
    assert total([(1, GSM_7), (3, GSM_7)]) == (4, GSM_7)
    assert total([NOT_SMS, NOT_SMS]) == (0, None)
    assert total([]) == (0, None)


# Properties

UNITS = {GSM_7: 7, UCS_2: 16}
"""Bits per unit: a septet, a UTF-16 unit."""
SEGMENT_BITS = 1120
"""140 bytes."""
HEADER_BITS = 48
"""The 6 bytes of the header that joins segments."""


def calculators_count(text: str) -> int:
    """Segments as Twilio's calculator fills them, in bits, one character at a time: when a
    character does not fit, a new segment with a header starts, and the header is added to the
    segment before too, pushing its last characters over to the new one."""
    bits_of = UNITS[encoding(text)]
    wide = {GSM_7: set(EXTENSION), UCS_2: set()}[encoding(text)]
    sizes = [bits_of * (2 if c in wide or c > "\uffff" else 1) for c in text]
    filled: list[list[int]] = [[]]
    headers = [0]
    for size in sizes:
        if SEGMENT_BITS - headers[-1] - sum(filled[-1]) < size:
            pushed: list[int] = []
            if headers[-1] == 0:
                headers[-1] = HEADER_BITS
                while SEGMENT_BITS - headers[-1] - sum(filled[-1]) < 0:
                    pushed.insert(0, filled[-1].pop())
            filled.append(pushed)
            headers.append(HEADER_BITS)
        filled[-1].append(size)
    return len(filled)


texts = st.one_of(
    st.text(st.sampled_from("a€"), min_size=150, max_size=700),
    st.text(st.sampled_from("あ😀"), min_size=60, max_size=400),
    st.text(
        st.one_of(
            st.sampled_from(BASIC + EXTENSION),
            st.sampled_from("éşあ😀🇮🇹\ud83d"),
            st.characters(codec="utf-8"),
        ),
        max_size=700,
    ),
)
"""Texts where pairs often fall at a segment's end (GSM-7, UCS-2), and texts of any kind."""


@given(texts)
def test_the_count_is_the_calculators_filled_in_bits(text):
    assert segments(text)[0] == calculators_count(text)


@given(texts, texts)
def test_a_text_is_at_least_one_segment_and_appending_never_makes_fewer(text, more):
    assert 1 <= segments(text)[0] <= segments(text + more)[0]


@given(st.text(st.sampled_from(BASIC + EXTENSION), max_size=700))
def test_a_gsm_7_text_never_takes_more_segments_than_as_ucs_2(text):
    assert segments(text)[0] <= segments(text + "ş")[0]
