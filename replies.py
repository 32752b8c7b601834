"""Your replies: what your Twilio number answers to each text. Edit this file.

Each handler gets the incoming message (`message.body`, `message.from_number`, `message.media`...)
and returns a string (one message back), a list of strings (one message each), or None (no
reply); a picture or file goes in a `Text`: `Text("Your ticket", media=["https://…/t.png"])`.
Register it for a keyword (the first word, any case), a regular expression, or any test:

    @router.keyword("PRICE", "PRICES")
    def prices(message: IncomingMessage) -> Reply:
        return ["Small: $5", "Large: $8"]

    @router.pattern(r"\\border\\s+#?\\d+")
    def order_status(message: IncomingMessage) -> Reply: ...

A handler (or a test) that takes a second parameter gets the conversation with the sender: its
`state`, a dict kept from one message to the next, `history`, the last messages in and out, and
`end()`. Only those cost a read of the conversation store; the survey below shows them:

    @router.keyword("SURVEY")
    def start_survey(message: IncomingMessage, conversation: Conversation) -> Reply:
        conversation.state["survey"] = {}
        return "1/2: how did you hear about us?"

A handler that needs longer than Twilio waits (15 s: a language model, a booking system) runs
later (`later=True`): the webhook answers at once with its `acknowledgement` (or nothing), and the
handler's reply is sent as texts when it is done, minutes later if need be (`REPORT` below). To
text anyone first, from any handler or script, durably and once per key and number:

    send_text("+14155550100", f"A customer asks for an agent: {message.body}", key=message.sid)

Time: a reminder is a text sent later (`at=`: an aware datetime, or a delay), or written then by a
timer handler (`handler=`); a question can wait for an answer, and say what happens without one:

    send_text(message.from_number, "Your table is ready", key=message.sid, at=timedelta(hours=2))
    conversation.expect(within=timedelta(hours=1), otherwise="survey_nudge")   # @router.timer

A pressed WhatsApp quick-reply button is routed by its payload: `@router.button("CONFIRM")`.
Messages from every channel whose webhook is this one (SMS, WhatsApp...) reach the same handlers
and are answered on the channel they came by: `message.channel` says which ("sms", "whatsapp"...);
WhatsApp's own fields are attributes (`message.profile_name`, `message.location`...).

The first handler that matches answers; `auto_reply` answers everything else. Twilio itself
answers its opt-out and help keywords (STOP, UNSUBSCRIBE, START, HELP...): see the README.
Checking that Twilio sent the message, logging and building TwiML are done for you. Try your
replies with `make send` (to `make run`), `make chat`, or in a test with `devtools.phone.Phone`.
"""

import os
from contextlib import suppress
from datetime import datetime, time, timedelta, timezone

from sms_webhook import (
    Conversation,
    IncomingMessage,
    OptedOutError,
    Reply,
    Router,
    Timer,
    cancel_text,
    now,
    send_text,
)

DEFAULT_REPLY_MESSAGE = "I'm busy questing right now!"
SHOP_TIME = timezone(timedelta(hours=9), "JST")
"""The shop's time zone: Tokyo keeps no daylight saving time, so a fixed offset is exact."""

router = Router()


@router.keyword("HOURS")
def opening_hours(message: IncomingMessage) -> Reply:
    """Example: a keyword with a fixed answer."""
    return "We're open 9am to 5pm, Monday to Friday."


@router.when(lambda message: bool(message.media))
def media_received(message: IncomingMessage) -> Reply:
    """Example: a picture or video (MMS), answered with what arrived."""
    kinds = ", ".join(media.content_type for media in message.media)
    return f"Got your {len(message.media)} attachment(s): {kinds}."


@router.keyword("SURVEY")
def start_survey(message: IncomingMessage, conversation: Conversation) -> Reply:
    """Example: a conversation in two steps; the answers are kept in its state until the end.
    Without an answer in an hour, `survey_nudge` runs; the survey closes after 23 hours of
    silence."""
    conversation.state["survey"] = {}
    conversation.expect(within=timedelta(hours=1), otherwise="survey_nudge")
    return "Two quick questions. 1/2: how did you hear about us?"


@router.keyword("BOOK")
def book(message: IncomingMessage, conversation: Conversation) -> Reply:
    """Example: an appointment two days ahead at 15:00, and its reminder the day before,
    written when it goes (`appointment_reminder`)."""
    day = now().astimezone(SHOP_TIME).date() + timedelta(days=2)
    appointment = datetime.combine(day, time(15), SHOP_TIME)
    key = f"appointment {appointment:%Y-%m-%d %H:%M} {message.sid}"  # spent once sent or cancelled
    the_day_before = appointment - timedelta(days=1)
    with suppress(OptedOutError):  # who opted out (STOP) gets no reminder
        send_text(message.from_number, at=the_day_before, handler="appointment_reminder", key=key)
    conversation.state["appointment"] = key
    return f"Booked for {appointment:%a %d %b at %H:%M}. Text CANCEL BOOKING to cancel."


@router.keyword("CANCEL")
def cancel_appointment(message: IncomingMessage, conversation: Conversation) -> Reply:
    """Example: the appointment's reminder withdrawn (CANCEL BOOKING). CANCEL alone is one of
    Twilio's opt-out words: Twilio answers it, and `opted_out` below runs instead."""
    key = conversation.state.pop("appointment", None)
    if key is None:
        return "You have no appointment to cancel."
    cancel_text(message.from_number, key)
    return "Your appointment is cancelled."


@router.opt_out
def opted_out(message: IncomingMessage, conversation: Conversation) -> None:
    """Example: a customer who opted out (STOP, CANCEL...) gets no reminder: it is withdrawn.
    Twilio answers the opt-out itself; a reply here would be dropped."""
    key = conversation.state.pop("appointment", None)
    if key is not None:
        cancel_text(message.from_number, key)


@router.when(lambda message, conversation: "survey" in conversation.state)
def survey_answer(message: IncomingMessage, conversation: Conversation) -> Reply:
    """The survey's next step: each answer is kept, and the conversation ends with the last."""
    answers = conversation.state["survey"]
    if "heard" not in answers:
        answers["heard"] = message.body
        conversation.expect(within=timedelta(hours=23), otherwise="survey_closed")
        return "2/2: from 1 to 5, how likely are you to recommend us?"
    conversation.end()
    return f"Thanks! You heard of us through {answers['heard']!r} and gave us {message.body}."


@router.timer
def survey_nudge(timer: Timer, conversation: Conversation) -> Reply:
    """An hour without an answer: one nudge; the survey then closes 23 hours after it started,
    while WhatsApp's 24-hour window since the last message is still open for its last text."""
    conversation.expect(within=timedelta(hours=22), otherwise="survey_closed")
    return "Still there? Just reply to carry on with the survey; it closes later today."


@router.timer
def survey_closed(timer: Timer, conversation: Conversation) -> Reply:
    """No answer to the nudge either: the survey ends."""
    conversation.end()
    return "The survey has closed. Thanks all the same!"


@router.timer
def appointment_reminder(timer: Timer, conversation: Conversation) -> Reply:
    """Written the day before, so it says what is true then: nothing for an appointment that
    was booked again since."""
    if conversation.state.get("appointment") != timer.key:
        return None
    appointment = (timer.due + timedelta(days=1)).astimezone(SHOP_TIME)
    return (
        f"Reminder: your appointment is tomorrow at {appointment:%H:%M}. CANCEL BOOKING cancels it."
    )


@router.keyword(
    "REPORT", later=True, acknowledgement="Working on it: your report follows in a moment."
)
def report(message: IncomingMessage, conversation: Conversation) -> Reply:
    """Example: a reply that may take minutes (here it counts the texts of the conversation);
    it gets the conversation as any handler does."""
    texts = [turn for turn in conversation.history if turn.direction == "in"]
    return f"Your report: {len(texts)} text(s) from you in this conversation so far."


@router.fallback
def auto_reply(message: IncomingMessage) -> Reply:
    """Everything else: the `REPLY_MESSAGE` setting of the deployed stack."""
    return os.environ.get("REPLY_MESSAGE", DEFAULT_REPLY_MESSAGE)
