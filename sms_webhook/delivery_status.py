"""Delivery status callbacks: what became of the replies this webhook sent.

Twilio POSTs `MessageSid`, `MessageStatus` and, when delivery failed, `ErrorCode` to the
`action` URL of each `<Message>` (see `urls.status_callback_url`). Each callback becomes a
log line and metrics: `DeliveryStatus` per status, `DeliveryFailures` for `failed` and
`undelivered`, `DeliveryErrors` per error code (codes: https://www.twilio.com/docs/api/errors).
With deduplication on, each (MessageSid, MessageStatus) is counted once: a replayed `failed`
callback cannot raise the failure alarm.
"""

import re
from dataclasses import dataclass

from sms_webhook.form import FormFields
from sms_webhook.message import ACCOUNT_SID, MESSAGE_SID, required_field
from sms_webhook.telemetry import count, logger

STATUS = re.compile(r"[A-Za-z_]{1,32}")

STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "canceled",
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "read",
        "partially_delivered",
    }
)
"""Twilio's message statuses; anything else is published as `other`."""

FAILURES = frozenset({"failed", "undelivered"})


@dataclass(frozen=True)
class DeliveryStatus:
    message_sid: str
    status: str
    error_code: str

    @classmethod
    def from_fields(cls, fields: FormFields) -> "DeliveryStatus":
        """The callback in the fields; `MalformedMessageError` when they are not Twilio's."""
        required_field(fields, "AccountSid", ACCOUNT_SID)
        return cls(
            message_sid=required_field(fields, "MessageSid", MESSAGE_SID),
            status=required_field(fields, "MessageStatus", STATUS).lower(),
            error_code=fields.first("ErrorCode").strip(),
        )

    @property
    def key(self) -> str:
        """What makes one callback: a status reported twice for the same message is a repeat."""
        return f"{self.message_sid} {self.status}"


def record(status: DeliveryStatus) -> None:
    """Log the callback and count it; metric dimensions only take values from a known set."""
    logger.info(
        "delivery status",
        extra={
            "message_sid": status.message_sid,
            "status": status.status,
            "error_code": status.error_code or None,
        },
    )
    count("DeliveryStatus", status=status.status if status.status in STATUSES else "other")
    if status.status in FAILURES:
        count("DeliveryFailures")
    if status.error_code:
        code = status.error_code if re.fullmatch(r"\d{1,6}", status.error_code) else "other"
        count("DeliveryErrors", error_code=code)
