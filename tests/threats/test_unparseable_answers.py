"""Threat: an answer Twilio cannot parse, which makes it send nothing at all.

Whatever reply code returns, the answer is TwiML that an XML parser reads, and it asks for
delivery reports the way Twilio documents today (`action`, not the deprecated `statusCallback`).
"""

from xml.etree import ElementTree

import pytest

from tests.support.twilio_requests import REST_URL, STATUS_URL, rest_request, signed

NOT_XML = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff", "\ud800"]


def answer_to(invoke, answer_with, reply) -> dict:
    answer_with(lambda message: reply)
    return invoke(signed(rest_request(), REST_URL))


def texts(response: dict) -> list[str]:
    return [message.text for message in ElementTree.fromstring(response["body"].encode())]


@pytest.mark.parametrize("character", NOT_XML)
def test_a_character_xml_cannot_hold_is_dropped_and_the_answer_parses(
    invoke, answer_with, character
):
    response = answer_to(invoke, answer_with, f"before{character}after")

    assert response["statusCode"] == 200
    assert texts(response) == [f"before{character}after".replace(character, "")]


def test_tabs_and_line_breaks_are_kept(invoke, answer_with):
    response = answer_to(invoke, answer_with, "one\ttwo\nthree\r\nfour")

    assert texts(response) == ["one\ttwo\nthree\nfour"]  # XML reads \r\n as \n


def test_dropped_characters_are_reported_once_per_reply(invoke, logs, answer_with):
    answer_with(lambda message: ["a\x00b\x01", "c\ud800"])
    for _ in range(3):
        invoke(signed(rest_request(), REST_URL))

    warnings = [r for r in logs.records if r["message"].startswith("reply characters dropped")]
    assert [w["dropped"] for w in warnings] == [2, 1]


def test_a_reply_of_only_such_characters_is_no_reply(invoke, answer_with):
    response = answer_to(invoke, answer_with, "\x00\x01")

    assert texts(response) == []


def test_delivery_reports_are_asked_for_with_action_and_post(invoke):
    response = invoke(signed(rest_request(), REST_URL))

    [message] = ElementTree.fromstring(response["body"].encode())
    assert message.attrib == {"action": STATUS_URL, "method": "POST"}
