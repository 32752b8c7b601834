"""WhatsApp's 24-hour window: a text of your own words reaches a WhatsApp user only within 24
hours of their last message to you (only their messages open it, yours never do). Outside it
WhatsApp takes an approved template only (`send_text(to, template="HX…", variables=...)`), and
Twilio refuses any other text (error 63016; since April 2025 even a template's words in the body).

So each message to a WhatsApp number of yours is noted (one UpdateItem on the senders' table,
`senders.record_whatsapp_message`; none for other channels), and a text about to go to a WhatsApp
user is refused unless the window is open then (`recipient_rules`).
"""

from contextlib import suppress

from sms_webhook.message import IncomingMessage

WINDOW = 24 * 60 * 60
"""Seconds after a person's last message during which you may text them freely on WhatsApp."""


def note_message(message: IncomingMessage) -> None:
    """A message to your WhatsApp number opens its sender's window (again). A store out of
    reach loses the note, not the message (logged and counted where it failed): a text to them
    is then refused as the older note says, or sent where none can be read."""
    if message.channel != "whatsapp":
        return
    from sms_webhook import local_clock
    from sms_webhook.senders import SendersUnavailableError, record_whatsapp_message

    with suppress(SendersUnavailableError):
        record_whatsapp_message(message.to_number, message.from_number, local_clock.now())


def is_open(last_message_at: float | None, at: float) -> bool:
    """Whether a free text may go at `at` (seconds since the epoch) to whoever last wrote at
    `last_message_at` (None: not in the last days, or never)."""
    return last_message_at is not None and at < last_message_at + WINDOW


def is_whatsapp(address: str) -> bool:
    """Whether a text to `address` goes on WhatsApp."""
    return address.startswith("whatsapp:")
