"""Reading the webhook's TwiML answer as Twilio does: the messages it sends back."""

import pytest

from devtools.twiml_answer import NotTwimlError, OutgoingMessage, twiml_messages
from sms_webhook.twiml import messaging_response

PICTURE = "https://example.com/cat.png"


def test_each_message_of_the_function_s_answer_is_read_in_order():
    document = messaging_response(["Small: $5", "Large: <$8> & more"])

    assert twiml_messages(document) == [
        OutgoingMessage("Small: $5"),
        OutgoingMessage("Large: <$8> & more"),
    ]


def test_an_empty_response_is_no_message():
    assert twiml_messages(messaging_response(None)) == []


def test_a_message_with_body_and_media_elements_is_read_whole():
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message><Body>Look</Body><Media>{PICTURE}</Media></Message></Response>"
    )

    assert twiml_messages(document) == [OutgoingMessage("Look", (PICTURE,))]


def test_bytes_with_their_encoding_declared_are_read():
    document = messaging_response("Olá 🗡️").encode()

    assert twiml_messages(document) == [OutgoingMessage("Olá 🗡️")]


def test_an_answer_that_is_not_xml_is_an_error():
    with pytest.raises(NotTwimlError, match="the answer is not XML"):
        twiml_messages("Internal Server Error")


def test_xml_that_is_not_a_response_is_an_error():
    with pytest.raises(NotTwimlError, match="the answer is <html>, not a TwiML <Response>"):
        twiml_messages("<html><body>hi</body></html>")
