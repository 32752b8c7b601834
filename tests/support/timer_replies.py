"""Reply code with timers, for the tests of time on this machine (the phone's clock, `make chat`'s
`/wait`, `make run`'s timers): imported by the tests, and the replies.py of a copy of the project.

SURVEY asks a question that waits an hour for its answer, then nudges once and waits a day more,
then closes; REMIND sets two reminders to staff, in 30 minutes and tomorrow.
"""

from datetime import timedelta

from sms_webhook import Conversation, IncomingMessage, Reply, Router, Timer, send_text

STAFF = "+14155550100"
"""Whom REMIND's reminders go to."""

router = Router()


@router.keyword("SURVEY")
def survey(message: IncomingMessage, conversation: Conversation) -> Reply:
    conversation.expect(within=timedelta(hours=1), otherwise="nudge")
    return "How did you hear about us?"


@router.keyword("REMIND")
def remind(message: IncomingMessage) -> Reply:
    send_text(STAFF, "Call back tomorrow", key=f"{message.sid} tomorrow", at=timedelta(days=1))
    send_text(STAFF, "Call back soon", key=f"{message.sid} soon", at=timedelta(minutes=30))
    return "Noted"


@router.timer
def nudge(timer: Timer, conversation: Conversation) -> Reply:
    conversation.expect(within=timedelta(days=1), otherwise="close")
    return "Still there?"


@router.timer
def close(timer: Timer, conversation: Conversation) -> Reply:
    conversation.end()
    return "Closed: thanks anyway."


@router.fallback
def thanks(message: IncomingMessage, conversation: Conversation) -> Reply:
    return "Thanks!"
