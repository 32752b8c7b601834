"""The conversation with one sender: what your handlers remember from one message to the next.

A conversation belongs to the pair of your Twilio number and the sender's address. It holds
`state`, a JSON-serialisable dict your handlers read and change, and `history`, the last messages
in and out. A handler (or a routing test) gets it by taking a second parameter; only then is it
read from the store, and it is saved after the handler returns (`sms_webhook/conversation_store.py`
says where and how: DynamoDB deployed, a file locally).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from sms_webhook.config import ConfigurationError, conversations_kept
from sms_webhook.jobs import NotScheduledError
from sms_webhook.telemetry import count, logger


def conversation_key(twilio_number: str, sender: str) -> str:
    """A conversation is the pair of your Twilio number and the sender's address (so is the
    sender's record of consent, and the start of the loop guard's items: `senders`)."""
    return f"{twilio_number} {sender}"


class Turn(NamedTuple):
    """One message of the conversation, in (from the sender) or out (a reply)."""

    direction: Literal["in", "out"]
    text: str
    media: tuple[str, ...] = ()
    """The media URLs it carried."""
    at: float = 0.0
    """When, in seconds since the epoch."""


class Expectation(NamedTuple):
    """A question waiting for the sender's answer: if no message comes by `due`, the timer
    handler named `otherwise` runs."""

    otherwise: str
    due: datetime


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
    expecting: Expectation | None = None
    """The question that was waiting for an answer when this turn began. For a message, it came
    in time: the deadline is void once the handler returns (unless it `expect`s again); for a
    timer handler, it is the question whose deadline this is, or one still waiting."""
    expected: Expectation | None = None
    """The question this turn waits for an answer to (`expect`)."""

    def end(self) -> None:
        """Forget everything about this conversation once the handler returns: a question
        waiting for an answer too."""
        self.state.clear()
        self.history.clear()
        self.expected = None
        self.ended = True

    def expect(self, *, within: timedelta, otherwise: str) -> None:
        """Wait for the sender's next message for `within` (a minute to a year): if none comes
        in time, the timer handler named `otherwise` runs with this conversation, and what it
        answers is sent as texts. A message in time is routed as usual (its handler sees the
        question in `expecting`) and the deadline is void; so is it when the conversation moves
        on or ends first. One question waits at a time: a second `expect` replaces the first.

            @router.keyword("SURVEY")
            def start_survey(message: IncomingMessage, conversation: Conversation) -> Reply:
                conversation.expect(within=timedelta(hours=1), otherwise="survey_nudge")
                return "1/2: how did you hear about us?"

        The deadline is set once the handler returns, with the conversation; `NotScheduledError`
        when the conversation could not be read (its store unreachable: logged, counted), and
        `ConfigurationError` where no conversations are kept: no promise is made then.
        """
        if not self.available:
            if not conversations_kept():
                raise ConfigurationError(
                    "questions with a deadline need conversations: CONVERSATION_TABLE "
                    "(Conversations=Enabled) or CONVERSATION_FILE"
                )
            logger.error("question not asked: the conversation could not be read")
            count("TimersFailed")
            raise NotScheduledError("no conversation to wait in: its store is unavailable")
        if not isinstance(within, timedelta):
            raise TypeError("within is a timedelta: timedelta(hours=1)")
        from sms_webhook.timers import due_at  # loaded by the handlers that set timers only

        self.expected = Expectation(otherwise, datetime.fromtimestamp(due_at(within), UTC))
