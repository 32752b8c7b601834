"""The webhook's machinery: reading Twilio's request, checking its signature, writing TwiML,
conversations, timers, and the jobs for later. Your own replies live in `replies.py` at the top of
the project, and need only what this package exports:

    from sms_webhook import Conversation, IncomingMessage, Reply, Router, Text, Timer, send_text
"""

from sms_webhook.conversation import Conversation
from sms_webhook.later import OptedOutError, OutsideWhatsAppWindowError, cancel_text, now, send_text
from sms_webhook.message import IncomingMessage
from sms_webhook.router import Router, Timer
from sms_webhook.twiml import Reply, Text

__all__ = [
    "Conversation",
    "IncomingMessage",
    "OptedOutError",
    "OutsideWhatsAppWindowError",
    "Reply",
    "Router",
    "Text",
    "Timer",
    "cancel_text",
    "now",
    "send_text",
]
