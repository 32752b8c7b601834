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

from typing import NamedTuple

from sms_webhook.message import IncomingMessage

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
