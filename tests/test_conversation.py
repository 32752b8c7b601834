"""The conversation your handlers get: state, history and a way to end it."""

from sms_webhook.conversation import Conversation, Turn


def test_a_new_conversation_is_empty_and_available():
    conversation = Conversation()

    assert (conversation.state, conversation.history, conversation.available) == ({}, [], True)


def test_ending_forgets_state_and_history_at_once():
    conversation = Conversation(state={"step": 2}, history=[Turn("in", "hi")])

    conversation.end()

    assert (conversation.state, conversation.history, conversation.ended) == ({}, [], True)
