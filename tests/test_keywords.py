"""Choosing a reply by keyword, pattern or test, with a fallback."""

import pytest
from twilio_requests import SMS, with_fields

from sms_webhook.form import FormFields
from sms_webhook.keywords import KeywordReplies
from sms_webhook.message import IncomingMessage


def message(body: str, **fields: str) -> IncomingMessage:
    return IncomingMessage.from_fields(FormFields.from_pairs(with_fields(SMS, Body=body, **fields)))


@pytest.fixture
def replies() -> KeywordReplies:
    replies = KeywordReplies()
    replies.keyword("HOURS", "OPEN")(lambda message: "hours")
    replies.pattern(r"order\s+#?(\d+)")(lambda message: "order")
    replies.when(lambda message: bool(message.media))(lambda message: "media")
    replies.fallback(lambda message: "fallback")
    return replies


@pytest.mark.parametrize("body", ["HOURS", "hours", "  Hours  ", "Hours?", "hours please", "open"])
def test_a_keyword_matches_the_first_word_whatever_its_case_and_spaces(replies, body):
    assert replies.reply(message(body)) == "hours"


@pytest.mark.parametrize("body", ["HOURSX", "HOURSE", "what are your hours", "hour"])
def test_a_keyword_elsewhere_or_inside_a_word_does_not_match(replies, body):
    assert replies.reply(message(body)) == "fallback"


@pytest.fixture
def japanese() -> KeywordReplies:
    replies = KeywordReplies()
    replies.keyword("料金", "PRICE")(lambda message: "price")
    replies.fallback(lambda message: "fallback")
    return replies


@pytest.mark.parametrize("body", ["料金を教えて", "料金", "　料金は？", "料金プラン"])
def test_a_japanese_keyword_matches_the_start_whatever_follows(japanese, body):
    assert japanese.reply(message(body)) == "price"


@pytest.mark.parametrize("body", ["今月の料金", "料"])
def test_a_japanese_keyword_after_the_start_or_cut_short_does_not_match(japanese, body):
    assert japanese.reply(message(body)) == "fallback"


@pytest.mark.parametrize(("body", "answer"), [("PRICE list", "price"), ("PRICES", "fallback")])
def test_an_ascii_keyword_beside_a_japanese_one_keeps_its_word_boundary(japanese, body, answer):
    assert japanese.reply(message(body)) == answer


def test_a_pattern_is_searched_anywhere_ignoring_case(replies):
    assert replies.reply(message("Where is ORDER #123?")) == "order"


def test_a_test_on_the_message_can_pick_media(replies):
    picture = message("", NumMedia="1", MediaUrl0="https://m/1", MediaContentType0="image/png")

    assert replies.reply(picture) == "media"


def test_the_first_registered_match_wins(replies):
    assert replies.reply(message("hours for order 5")) == "hours"


def test_the_fallback_takes_what_nothing_else_does(replies):
    assert replies.reply(message("hello")) == "fallback"


def test_without_a_fallback_an_unmatched_message_gets_no_reply():
    replies = KeywordReplies()
    replies.keyword("HOURS")(lambda message: "hours")

    assert replies.reply(message("hello")) is None


def test_registering_returns_the_handler_unchanged():
    def handler(message):
        return "x"

    assert KeywordReplies().keyword("X")(handler) is handler


def test_keywords_with_regex_characters_are_taken_literally():
    replies = KeywordReplies()
    replies.keyword("C++")(lambda message: "cpp")

    assert (replies.reply(message("c++ course")), replies.reply(message("cc"))) == ("cpp", None)
