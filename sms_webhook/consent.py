"""Which messages opt their sender out of your texts, or back in, as Twilio decides it.

On a long code or toll-free number Twilio answers its default keywords itself: STOP and its
synonyms unsubscribe the sender from your number (Twilio then refuses your texts to them, error
21610), START, UNSTOP and YES subscribe them again. A keyword is the whole message, trimmed, in
any case: "stop" and " Stop " are an opt-out, "We have got to STOP this bill" is none. With
Advanced Opt-Out (a Messaging Service's own keywords, in any language) Twilio says what the
message was in the `OptOutType` field, which then wins over the words: STOP or START (HELP is
neither).

Twilio's default keywords are SMS's: a WhatsApp or other channel message is an opt-out or opt-in
only when Twilio names it so in `OptOutType`.
"""

from typing import TYPE_CHECKING, NamedTuple

from sms_webhook.config import senders_kept_locally
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import logger

if TYPE_CHECKING:  # the router imports nothing of consent
    from sms_webhook.router import Router

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
"""Twilio's default opt-out keywords."""
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
"""Twilio's default opt-in keywords."""


class ConsentChange(NamedTuple):
    """What a message does to its sender's consent."""

    opted_out: bool
    """True: the sender opted out; False: back in."""
    only_if_opted_out: bool = False
    """An opt-in keyword without `OptOutType` (YES, START, UNSTOP): an opt-in only from a sender
    who had opted out, and otherwise an ordinary message ("yes" answering your question)."""


def consent_change(message: IncomingMessage) -> ConsentChange | None:
    """The consent the message gives or withdraws; None for any other message."""
    named = message.fields.get("OptOutType", "").strip().upper()
    if named in ("STOP", "START"):
        return ConsentChange(opted_out=named == "STOP")
    if message.channel != "sms":
        return None
    word = message.body.strip().upper()
    if word in OPT_OUT_WORDS:
        return ConsentChange(opted_out=True)
    if word in OPT_IN_WORDS:
        return ConsentChange(opted_out=False, only_if_opted_out=True)
    return None


OPTED_OUT_CONFIRMATION = (
    "You have successfully been unsubscribed. You will not receive any more messages from this "
    "number. Reply START to resubscribe."
)
"""What Twilio answers an opt-out with: a local run answers it so, deployed Twilio does."""
OPTED_IN_CONFIRMATION = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP for "
    "help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
"""What Twilio answers an opt-in with: a local run answers it so, deployed Twilio does."""


def consent_answer(message: IncomingMessage, router: "Router") -> str | None:
    """For an opt-out or opt-in: its record (one UpdateItem), the router's `opt_out` or `opt_in`
    handler run, and what the webhook answers: nothing deployed (Twilio answers), Twilio's
    confirmation in a local run. None: an ordinary message, for the router's handlers; no
    store call for it.

    A store out of reach loses the record, not the message: Twilio keeps its own list and
    refuses texts to whoever opted out (21610, which the worker records then). An opt-in keyword
    whose record cannot be read is an ordinary message."""
    change = consent_change(message)
    if change is None:
        return None
    from sms_webhook.senders import SendersUnavailableError, record_consent  # an opt-out or in

    try:
        recorded = record_consent(
            message.to_number,
            message.from_number,
            change.opted_out,
            only_if_opted_out=change.only_if_opted_out,
        )
    except SendersUnavailableError:
        recorded = False
    if change.only_if_opted_out and not recorded:
        return None
    logger.info("consent changed", extra={"opted_out": change.opted_out, "recorded": recorded})
    router.consent_changed(message, opted_out=change.opted_out)
    if not senders_kept_locally():
        return ""
    return OPTED_OUT_CONFIRMATION if change.opted_out else OPTED_IN_CONFIRMATION


def reply_blocked(message: IncomingMessage) -> bool:
    """In a local run, whether the sender opted out, so that the reply is dropped as Twilio drops
    it (said in the log, for the developer); deployed, Twilio does it, and nothing is read."""
    if not senders_kept_locally():  # deployed: nothing to read, nothing loaded
        return False
    from sms_webhook.senders import SendersUnavailableError, opted_out

    try:
        if not opted_out(message.to_number, message.from_number):
            return False
    except SendersUnavailableError:  # the file is unreadable: said where it failed
        return False
    logger.warning(
        "reply blocked: the sender opted out (STOP); Twilio delivers nothing to them until "
        "they text START"
    )
    return True
