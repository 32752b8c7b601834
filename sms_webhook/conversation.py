"""The conversation with one sender: what your handlers remember from one message to the next.

A conversation belongs to the pair of your Twilio number and the sender's address. It holds
`state`, a JSON-serialisable dict your handlers read and change, and `history`, the last messages
in and out. A handler (or a routing test) gets it by taking a second parameter; only then is it
read from the store, and it is saved after the handler returns (`sms_webhook/conversation_store.py`
says where and how: DynamoDB deployed, a file locally).
"""

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple


class Turn(NamedTuple):
    """One message of the conversation, in (from the sender) or out (a reply)."""

    direction: Literal["in", "out"]
    text: str
    media: tuple[str, ...] = ()
    """The media URLs it carried."""
    at: float = 0.0
    """When, in seconds since the epoch."""


@dataclass
class Conversation:
    """What your handlers remember about one sender.

        @router.keyword("SURVEY")
        def survey(message: IncomingMessage, conversation: Conversation) -> Reply:
            conversation.state["question"] = 1
            return "Question 1: how did you hear about us?"

    Changes to `state` are saved once the handler returns; a value JSON cannot hold as it is
    (a set, a date, a key that is not a string) is not saved, and a log line says so. `history`
    holds the last messages in and out, oldest first, this one included. `available` is False
    when the store could not be read: the handler then sees an empty conversation, and nothing is
    saved.
    """

    state: dict[str, Any] = field(default_factory=dict)
    history: list[Turn] = field(default_factory=list)
    available: bool = True
    ended: bool = False

    def end(self) -> None:
        """Forget everything about this conversation once the handler returns."""
        self.state.clear()
        self.history.clear()
        self.ended = True
