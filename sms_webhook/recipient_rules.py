"""Whom a text may go to, checked before it is queued (`send_text`) and again when it goes (the
worker): not to whoever opted out of the sending number's texts (STOP, `consent`), and on
WhatsApp, a text of your own words not outside the 24-hour window (`whatsapp_window`). One
consistent GetItem on the senders' table (`senders`) answers both.

A table out of reach lets the text go: Twilio keeps its own list and refuses whoever opted out
(21610, recorded then), and WhatsApp refuses a text outside the window (63016), while a refusal
here would stop every text, to everyone, for as long as the table is out of reach. A Messaging
Service's sid names no number whose records could be read: Twilio alone decides then.
"""

from typing import Literal

from sms_webhook import senders
from sms_webhook.origin import on_channel_of
from sms_webhook.telemetry import count, logger
from sms_webhook.whatsapp_window import is_open, is_whatsapp

Refusal = Literal["opted out", "outside the window"]
"""Why a text may not go: its recipient opted out; a WhatsApp user's window is shut."""


def refusal(
    to: str, number: str, at: float | None, wrote_at: float | None = None
) -> Refusal | None:
    """Why a text from your `number` to `to` may not go (logged, counted), or None. `at`: when
    it goes, for WhatsApp's window; None for a text whose words are not known yet (a timer
    handler's, checked when it goes) or a template, which goes outside the window too.
    `wrote_at`: when `to` wrote the message being answered, which opened the window even if the
    note of it was lost (a store that failed to write it)."""
    if not number or number.startswith("MG"):
        return None
    try:
        kept = senders.read(on_channel_of(to, number), to)
    except senders.SendersUnavailableError:  # logged and counted where it failed
        return None
    if kept is None:  # nothing is kept where the text is sent from
        return None
    pseudonym = {"to": senders.recipient(to)}
    if kept.opted_out:
        logger.warning("text refused: the recipient opted out", extra=pseudonym)
        count("TextsRefusedOptedOut")
        return "opted out"
    wrote = [time for time in (kept.last_message_at, wrote_at) if time is not None]
    if at is not None and is_whatsapp(to) and not is_open(max(wrote, default=None), at):
        logger.warning("text refused: outside WhatsApp's 24-hour window", extra=pseudonym)
        count("TextsRefusedOutsideWindow")
        return "outside the window"
    return None
