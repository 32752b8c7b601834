"""The conversation your handlers get: state, history and a way to end it."""

from datetime import UTC, datetime, timedelta

import pytest

from sms_webhook.config import ConfigurationError
from sms_webhook.conversation import Conversation, Turn
from sms_webhook.jobs import NotScheduledError
from sms_webhook.timers import InvalidTimeError


def test_a_new_conversation_is_empty_and_available():
    conversation = Conversation()

    assert (conversation.state, conversation.history, conversation.available) == ({}, [], True)


def test_ending_forgets_state_and_history_at_once():
    conversation = Conversation(state={"step": 2}, history=[Turn("in", "hi")])

    conversation.end()

    assert (conversation.state, conversation.history, conversation.ended) == ({}, [], True)


def test_expecting_an_answer_names_its_deadlines_handler_and_time():
    conversation = Conversation()

    conversation.expect(within=timedelta(hours=1), otherwise="nudge")

    assert conversation.expected is not None
    assert conversation.expected.otherwise == "nudge"
    ahead = conversation.expected.due - datetime.now(UTC)
    assert timedelta(minutes=59) < ahead <= timedelta(hours=1)


def test_ending_the_conversation_forgets_the_question_too():
    conversation = Conversation()
    conversation.expect(within=timedelta(hours=1), otherwise="nudge")

    conversation.end()

    assert conversation.expected is None


def test_a_conversation_that_could_not_be_read_cannot_wait_for_an_answer():
    with pytest.raises(NotScheduledError, match="no conversation to wait in"):
        Conversation(available=False).expect(within=timedelta(hours=1), otherwise="nudge")


@pytest.mark.parametrize("within", [timedelta(seconds=30), timedelta(days=366), timedelta(-1)])
def test_a_deadline_out_of_a_minute_to_a_year_is_an_error(within):
    with pytest.raises(InvalidTimeError, match=r"a minute to a year|a year ahead at the latest"):
        Conversation().expect(within=within, otherwise="nudge")


def test_a_deadline_given_as_a_number_is_an_error_that_says_what_to_give():
    with pytest.raises(TypeError, match="within is a timedelta"):
        Conversation().expect(within=3600, otherwise="nudge")  # type: ignore[arg-type]


def test_asking_where_no_conversations_are_kept_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("CONVERSATION_FILE")

    with pytest.raises(ConfigurationError, match="questions with a deadline need conversations"):
        Conversation(available=False).expect(within=timedelta(hours=1), otherwise="nudge")


def test_a_deadline_in_the_past_says_how_long_ago():
    with pytest.raises(InvalidTimeError, match=r"at is 3,600 s in the past"):
        Conversation().expect(within=timedelta(hours=-1), otherwise="nudge")
