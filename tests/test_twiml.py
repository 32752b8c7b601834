"""The TwiML answer built from what reply code returns."""

from devtools.twiml_answer import OutgoingMessage, twiml_messages
from sms_webhook.twiml import (
    MAX_MESSAGE_LENGTH,
    MAX_TWIML_SIZE,
    Text,
    characters,
    fits_in_messages,
    messaging_response,
    split_message,
)

XML = '<?xml version="1.0" encoding="UTF-8"?>'


def test_one_text_is_one_message():
    assert messaging_response("Hi") == f"{XML}<Response><Message>Hi</Message></Response>"


def test_several_texts_are_several_messages():
    assert messaging_response(["One", "Two"]) == (
        f"{XML}<Response><Message>One</Message><Message>Two</Message></Response>"
    )


def test_none_is_an_empty_response():
    assert messaging_response(None) == f"{XML}<Response />"


def test_empty_texts_are_left_out():
    assert messaging_response(["", "Two"]) == f"{XML}<Response><Message>Two</Message></Response>"


def test_an_empty_text_alone_is_an_empty_response():
    assert messaging_response("") == f"{XML}<Response />"


def test_text_is_xml_escaped():
    assert "<Message>1 &lt; 2 &amp; 3</Message>" in messaging_response("1 < 2 & 3")


def test_a_generator_of_texts_is_accepted():
    assert messaging_response(t for t in ["a", "b"]).count("<Message>") == 2


PICTURE = "https://example.com/tickets/42.png"


def test_a_text_with_media_carries_its_body_and_each_url():
    twiml = messaging_response(Text("Your ticket", media=[PICTURE, f"{PICTURE}?back"]))

    assert twiml == (
        f"{XML}<Response><Message><Body>Your ticket</Body><Media>{PICTURE}</Media>"
        f"<Media>{PICTURE}?back</Media></Message></Response>"
    )


def test_media_without_a_body_is_a_message_of_media_alone():
    assert twiml_messages(messaging_response(Text("", media=[PICTURE]))) == [
        OutgoingMessage("", (PICTURE,))
    ]


def test_texts_and_texts_with_media_mix_in_one_reply():
    assert twiml_messages(messaging_response(["Here:", Text("ticket", media=[PICTURE])])) == [
        OutgoingMessage("Here:"),
        OutgoingMessage("ticket", (PICTURE,)),
    ]


def test_a_long_text_with_media_has_its_media_in_its_last_message():
    sent = twiml_messages(messaging_response(Text("word " * 400, media=[PICTURE])))

    assert [message.media for message in sent] == [(), (PICTURE,)]


def test_one_url_given_alone_is_one_media():
    assert twiml_messages(messaging_response(Text("ticket", media=PICTURE))) == [
        OutgoingMessage("ticket", (PICTURE,))
    ]


def test_media_past_the_tenth_are_left_out_with_a_warning(logs):
    urls = [f"{PICTURE}?{number}" for number in range(12)]

    [message] = twiml_messages(messaging_response(Text("many", media=urls)))

    assert message.media == tuple(urls[:10])
    assert "reply media cut to 10" in logs.messages()


def message_bodies(twiml: str) -> list[str]:
    return [body.split("</Message>")[0] for body in twiml.split("<Message>")[1:]]


def test_a_text_over_1600_characters_is_split_at_spaces_into_several_messages():
    text = " ".join(f"word{number}" for number in range(600))

    bodies = message_bodies(messaging_response(text))

    assert len(bodies) == 3
    assert all(len(body) <= MAX_MESSAGE_LENGTH for body in bodies)
    assert " ".join(bodies) == text


def test_a_text_without_spaces_is_cut_at_1600_characters():
    assert [len(b) for b in message_bodies(messaging_response("x" * 3500))] == [1600, 1600, 300]


def test_emoji_count_as_two_characters_as_twilio_counts_them():
    pieces = split_message("🎉" * 1000)

    assert [len(piece.encode("utf-16-le")) // 2 for piece in pieces] == [1600, 400]


def test_a_text_of_exactly_1600_characters_is_one_message():
    assert split_message("x" * 1600) == ["x" * 1600]


def test_characters_are_counted_as_twilio_counts_them():
    assert [characters(text) for text in ("abc", "日本", "🎉", "a\ud800b")] == [3, 2, 2, 3]


def test_a_text_of_16000_characters_without_spaces_fits_in_10_messages():
    assert fits_in_messages("x" * 16_000)


def test_a_text_of_16001_characters_fits_in_no_10_messages():
    assert not fits_in_messages("x" * 16_001)


def test_a_text_cut_at_its_spaces_into_more_than_10_messages_does_not_fit():
    words = ("y" * 800 + " ") * 19  # cut after each word: 19 messages of 800 characters

    assert (len(words) < 16_000, fits_in_messages(words)) == (True, False)


def test_twiml_never_exceeds_64_kb_and_says_what_it_left_out(logs):
    twiml = messaging_response(["y" * 1600] * 60)

    assert len(twiml.encode()) <= MAX_TWIML_SIZE
    assert twiml.endswith("</Message></Response>")
    assert logs.records[-1]["message"] == "reply cut short: TwiML over 64 kB"
    assert logs.records[-1]["messages_left_out"] == 60 - twiml.count("<Message>")
