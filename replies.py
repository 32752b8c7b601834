"""Your replies: what your Twilio number answers to each text. Edit this file.

`reply` is called once for every message whose signature checked out. Return:

- a string: one message back, e.g. `"Thanks!"`;
- a list of strings: one message each;
- None (or ""): no reply at all.

Example, a reply that depends on the text and the attachments::

    def reply(message: IncomingMessage) -> Reply:
        if message.body.strip().lower() == "hours":
            return "We're open 9am-5pm, Monday to Friday."
        if message.media:
            return f"Thanks for the {len(message.media)} picture(s)!"
        return None

Everything else (checking that Twilio sent it, logging, building TwiML) is done for you.
"""

import os

from sms_webhook.message import IncomingMessage
from sms_webhook.twiml import Reply

DEFAULT_REPLY_MESSAGE = "I'm busy questing right now!"


def reply(message: IncomingMessage) -> Reply:
    """The auto-reply: the `REPLY_MESSAGE` setting of the deployed stack, whatever was sent."""
    return os.environ.get("REPLY_MESSAGE", DEFAULT_REPLY_MESSAGE)
