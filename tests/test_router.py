"""Choosing a reply by keyword, pattern, pressed button or test, with a fallback."""

import functools
from datetime import UTC, datetime, timedelta

import pytest

from devtools.twilio_message import new_message_sid, whatsapp_fields
from sms_webhook.form import FormFields
from sms_webhook.message import Button, IncomingMessage
from sms_webhook.router import Later, Router, Timer
from sms_webhook.twiml import Text, reply_texts
from tests.support.twilio_requests import SMS, with_fields


def message(body: str, **fields: str) -> IncomingMessage:
    """A new message, with a MessageSid of its own: a conversation takes each message once."""
    sid = new_message_sid()
    ids = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
    return IncomingMessage.from_fields(
        FormFields.from_pairs(with_fields(SMS, Body=body, **ids, **fields))
    )


@pytest.fixture
def router() -> Router:
    router = Router()
    router.keyword("HOURS", "OPEN")(lambda message: "hours")
    router.pattern(r"order\s+#?(\d+)")(lambda message: "order")
    router.when(lambda message: bool(message.media))(lambda message: "media")
    router.fallback(lambda message: "fallback")
    return router


@pytest.mark.parametrize("body", ["HOURS", "hours", "  Hours  ", "Hours?", "hours please", "open"])
def test_a_keyword_matches_the_first_word_whatever_its_case_and_spaces(router, body):
    assert router.reply(message(body)) == "hours"


@pytest.mark.parametrize("body", ["HOURSX", "HOURSE", "what are your hours", "hour"])
def test_a_keyword_elsewhere_or_inside_a_word_does_not_match(router, body):
    assert router.reply(message(body)) == "fallback"


@pytest.fixture
def japanese() -> Router:
    router = Router()
    router.keyword("料金", "PRICE")(lambda message: "price")
    router.fallback(lambda message: "fallback")
    return router


@pytest.mark.parametrize("body", ["料金を教えて", "料金", "　料金は？", "料金プラン"])
def test_a_japanese_keyword_matches_the_start_whatever_follows(japanese, body):
    assert japanese.reply(message(body)) == "price"


@pytest.mark.parametrize("body", ["今月の料金", "料"])
def test_a_japanese_keyword_after_the_start_or_cut_short_does_not_match(japanese, body):
    assert japanese.reply(message(body)) == "fallback"


@pytest.mark.parametrize(("body", "answer"), [("PRICE list", "price"), ("PRICES", "fallback")])
def test_an_ascii_keyword_beside_a_japanese_one_keeps_its_word_boundary(japanese, body, answer):
    assert japanese.reply(message(body)) == answer


def test_a_pattern_is_searched_anywhere_ignoring_case(router):
    assert router.reply(message("Where is ORDER #123?")) == "order"


def test_a_test_on_the_message_can_pick_media(router):
    picture = message("", NumMedia="1", MediaUrl0="https://m/1", MediaContentType0="image/png")

    assert router.reply(picture) == "media"


def test_the_first_registered_match_wins(router):
    assert router.reply(message("hours for order 5")) == "hours"


def test_the_fallback_takes_what_nothing_else_does(router):
    assert router.reply(message("hello")) == "fallback"


def test_without_a_fallback_an_unmatched_message_gets_no_reply():
    router = Router()
    router.keyword("HOURS")(lambda message: "hours")

    assert router.reply(message("hello")) is None


def test_registering_returns_the_handler_unchanged():
    def handler(message):
        return "x"

    assert Router().keyword("X")(handler) is handler


def test_keywords_with_regex_characters_are_taken_literally():
    router = Router()
    router.keyword("C++")(lambda message: "cpp")

    assert (router.reply(message("c++ course")), router.reply(message("cc"))) == ("cpp", None)


# Conversations


def logged(handler):
    """A decorator, as users write them: the wrapper takes anything."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        return handler(*args, **kwargs)

    return wrapper


def test_a_handler_without_a_conversation_costs_no_store_call(router, store_calls):
    router.reply(message("hours"))
    router.reply(message("anything else"))

    assert store_calls == []


def test_a_decorated_handler_of_one_parameter_gets_the_message_alone(store_calls):
    router = Router()

    @router.keyword("HOURS")
    @logged
    def hours(message):
        return "hours"

    assert (router.reply(message("hours")), store_calls) == ("hours", [])


def test_a_decorated_handler_of_two_parameters_gets_the_conversation(store_calls):
    router = Router()

    @router.keyword("COUNT")
    @logged
    def count(message, conversation):
        conversation.state["n"] = conversation.state.get("n", 0) + 1
        return f"count {conversation.state['n']}"

    assert [router.reply(message("count")) for _ in range(2)] == [
        (Text("count 1"),),
        (Text("count 2"),),
    ]


def test_a_handler_taking_any_arguments_gets_the_message_alone(store_calls):
    router = Router()
    router.fallback(lambda *arguments: f"{len(arguments)} argument")

    assert (router.reply(message("hi")), store_calls) == ("1 argument", [])


def test_a_handler_with_a_second_parameter_gets_the_conversation(store_calls):
    router = Router()

    @router.keyword("COUNT")
    def count(message, conversation):
        conversation.state["n"] = conversation.state.get("n", 0) + 1
        return f"count {conversation.state['n']}"

    assert [router.reply(message("count")) for _ in range(3)] == [
        (Text("count 1"),),
        (Text("count 2"),),
        (Text("count 3"),),
    ]


def test_a_test_with_a_second_parameter_routes_on_the_conversation(store_calls):
    router = Router()

    @router.keyword("SURVEY")
    def start(message, conversation):
        conversation.state["question"] = 1
        return "Question 1?"

    @router.when(lambda message, conversation: conversation.state.get("question") == 1)
    def answer(message, conversation):
        conversation.end()
        return f"Thanks for {message.body!r}"

    router.fallback(lambda message: "fallback")

    replies = [reply_texts(router.reply(message(body))) for body in ("hi", "survey", "blue", "hi")]

    assert [[text.body for text in texts] for texts in replies] == [
        ["fallback"],
        ["Question 1?"],
        ["Thanks for 'blue'"],
        ["fallback"],
    ]


def test_a_message_that_only_a_test_looked_at_the_conversation_for_is_not_written(store_calls):
    router = Router()
    router.when(lambda message, conversation: "question" in conversation.state)(lambda m: "no")
    router.fallback(lambda message: "fallback")

    assert router.reply(message("hi")) == (Text("fallback"),)
    assert store_calls == ["read"]


# Pressed WhatsApp buttons, by payload


def pressed(payload: str, text: str = "Yes, book it") -> IncomingMessage:
    """A WhatsApp message whose sender pressed a quick-reply button: its text is the body too."""
    fields = whatsapp_fields(text, button=Button(text, payload))
    return IncomingMessage.from_fields(FormFields.from_pairs(fields))


@pytest.fixture
def buttons() -> Router:
    router = Router()
    router.button("CONFIRM", "BOOK_NOW")(lambda message: "confirmed")
    router.keyword("HOURS")(lambda message: "hours")
    router.fallback(lambda message: "fallback")
    return router


@pytest.mark.parametrize("payload", ["CONFIRM", "confirm", " Confirm ", "BOOK_NOW"])
def test_a_button_route_takes_a_pressed_button_by_its_payload_in_any_case(buttons, payload):
    assert buttons.reply(pressed(payload)) == "confirmed"


@pytest.mark.parametrize("payload", ["CONFIRMED", "CONFIRM BOOKING", "BOOK", ""])
def test_a_button_route_takes_the_whole_payload_only(buttons, payload):
    assert buttons.reply(pressed(payload)) == "fallback"


@pytest.mark.parametrize("body", ["CONFIRM", "confirm"])
def test_a_text_that_says_the_payload_presses_no_button(buttons, body):
    assert buttons.reply(message(body)) == "fallback"


def test_a_pressed_buttons_text_still_reaches_keyword_routes(buttons):
    assert buttons.reply(pressed("LATER", text="Hours?")) == "hours"


def test_a_keyword_registered_before_a_button_route_answers_first():
    router = Router()
    router.keyword("YES")(lambda message: "keyword")
    router.button("CONFIRM")(lambda message: "button")

    assert router.reply(pressed("CONFIRM", text="Yes, book it")) == "keyword"


# Handlers that run later


def test_a_message_for_a_later_handler_gets_how_the_webhook_answers_meanwhile():
    router = Router()

    @router.keyword("REPORT", later=True, acknowledgement="Working on it")
    def report(message):
        return "the report"

    assert router.reply(message("report")) == Later("report", "Working on it")


def test_a_later_handler_may_be_given_a_stable_name_of_its_own():
    router = Router()
    router.keyword("REPORT", later=True, name="report")(lambda message: "the report")

    assert router.reply(message("report")).handler == "report"
    assert router.later_handlers() == {"report"}


def test_later_given_a_text_is_an_error_that_names_acknowledgement():
    router = Router()

    with pytest.raises(TypeError, match="acknowledgement="):
        router.keyword("REPORT", later="Working on it")(lambda message: "the report")


def test_an_acknowledgement_for_a_handler_that_answers_now_is_an_error():
    router = Router()

    with pytest.raises(ValueError, match="add later=True"):
        router.keyword("REPORT", acknowledgement="Working on it")(lambda message: "the report")


def test_two_routers_keep_their_later_handlers_apart():
    first, second = Router(), Router()
    first.keyword("A", later=True, name="report")(lambda message: "first")
    second.keyword("B", later=True, name="report")(lambda message: "second")

    assert first.later_reply("report", message("a")) == (Text("first"),)
    assert second.later_reply("report", message("b")) == (Text("second"),)


def test_a_later_handler_registered_with_true_has_no_acknowledgement():
    router = Router()
    router.pattern("report", later=True)(lambda message: "the report")

    assert router.reply(message("report")).acknowledgement is None


def test_a_fallback_may_run_later():
    router = Router()
    router.fallback(later=True, acknowledgement="One moment")(lambda message: "an answer")

    assert router.reply(message("anything")).acknowledgement == "One moment"


def test_the_worker_runs_a_later_handler_by_its_name():
    router = Router()
    router.button("CONFIRM", later=True)(lambda message: ["booked", "see you"])
    name = router.reply(pressed("CONFIRM")).handler

    assert router.later_reply(name, message("confirm")) == (Text("booked"), Text("see you"))


def test_two_later_handlers_of_one_name_are_an_error_at_registration():
    router = Router()
    router.keyword("A", later=True)(lambda message: "a")

    with pytest.raises(ValueError, match="two handlers run later under one name"):
        router.keyword("B", later=True)(lambda message: "b")


def test_one_later_handler_may_be_registered_for_several_tests():
    router = Router()

    @router.keyword("CONFIRM", later=True)
    @router.button("CONFIRM", later=True)
    def confirm(message):
        return "booked"

    assert router.reply(message("confirm")) == router.reply(pressed("CONFIRM"))


def test_an_empty_acknowledgement_runs_the_handler_later_answering_nothing_at_once():
    router = Router()
    router.fallback(later=True, acknowledgement="")(lambda message: "done")

    assert router.reply(message("hi")).acknowledgement is None


def test_a_later_handler_chosen_by_a_conversation_test_leaves_the_conversation_unwritten(
    store_calls,
):
    router = Router()
    router.when(lambda message, conversation: True, later=True)(lambda m, c: "later")

    assert isinstance(router.reply(message("hi")), Later)
    assert store_calls == ["read"]


def test_a_later_handler_that_takes_the_conversation_gets_it_in_the_worker(store_calls):
    router = Router()

    @router.fallback(later=True)
    def remember(message, conversation):
        conversation.state["seen"] = True
        return "noted"

    name = router.reply(message("hi")).handler

    assert (router.later_reply(name, message("hi")), store_calls) == (
        (Text("noted"),),
        ["read", "write"],
    )


# Timer handlers


def a_timer(key: str = "r1") -> Timer:
    return Timer("+14155550100", "+15005550006", key, datetime(2026, 12, 8, tzinfo=UTC))


def test_a_timer_handler_is_found_by_its_functions_name():
    router = Router()

    @router.timer
    def nudge(timer):
        return f"nudge for {timer.key}"

    assert router.timer_handlers() == {"nudge"}
    assert router.timer_reply("nudge", a_timer(), None) == (Text("nudge for r1"),)


def test_a_timer_handler_given_a_name_is_found_by_it():
    router = Router()
    router.timer(name="old_name")(lambda timer: "hi")

    assert router.timer_handlers() == {"old_name"}


def test_two_timer_handlers_under_one_name_are_refused():
    router = Router()
    router.timer(name="nudge")(lambda timer: "one")

    with pytest.raises(ValueError, match="two timer handlers under one name: nudge"):
        router.timer(name="nudge")(lambda timer: "two")


def test_a_timer_handler_that_takes_the_conversation_gets_the_recipients(store_calls):
    router = Router()

    @router.timer
    def remember(timer, conversation):
        conversation.state["reminded"] = True
        return "reminded"

    assert (router.timer_reply("remember", a_timer(), None), store_calls) == (
        (Text("reminded"),),
        ["read", "write"],
    )


def test_a_router_with_timer_handlers_reads_the_conversation_for_every_message(store_calls):
    router = Router()
    router.keyword("HOURS")(lambda message: "9 to 5")
    router.timer(lambda timer: "nudge")

    assert (router.reply(message("hours")), store_calls) == ((Text("9 to 5"),), ["read"])


def test_a_router_with_timer_handlers_reads_nothing_where_no_conversations_are_kept(
    store_calls, monkeypatch
):
    monkeypatch.delenv("CONVERSATION_FILE")
    router = Router()
    router.keyword("HOURS")(lambda message: "9 to 5")
    router.timer(lambda timer: "nudge")

    assert (router.reply(message("hours")), store_calls) == ("9 to 5", [])


def test_a_question_whose_deadline_names_no_timer_handler_is_an_error_at_once(store_calls):
    router = Router()

    @router.fallback
    def ask(message, conversation):
        conversation.expect(within=timedelta(hours=1), otherwise="nudg")
        return "Well?"

    with pytest.raises(ValueError, match=r"otherwise='nudg': no @router\.timer of that name"):
        router.reply(message("hi"))
