"""The TwiML answer built from what reply code returns."""

from sms_webhook.twiml import messaging_response

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
