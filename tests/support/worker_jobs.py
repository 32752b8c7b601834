"""The worker's jobs as the queue hands them over, and the worker's answer to them: for the
tests of `sms_webhook/worker.py` and of the threats to what it sends."""

from typing import Any

import handler
from devtools.lambda_context import LambdaContext
from devtools.queue_events import sqs_event
from sms_webhook.form import FormFields
from sms_webhook.jobs import ReplyJob, TextJob, encode
from sms_webhook.message import IncomingMessage
from sms_webhook.router import Later, Router
from tests.support.twilio_requests import SMS, STATUS_URL


def reply_job(
    router: Router, fields: list[tuple[str, str]] = SMS, status_callback: str | None = STATUS_URL
) -> str:
    """The later reply the webhook queues for this message, whose handler runs later."""
    later = router.reply(IncomingMessage.from_fields(FormFields.from_pairs(fields)))
    assert isinstance(later, Later), "the router answers this message now, not later"
    return encode(ReplyJob(tuple(fields), status_callback, handler=later.handler))


def text_job(key: str = "agent-1", to: str = "+14155550100", body: str = "Ada asks") -> str:
    """A text sent first, as `send_text` queues it from a script."""
    return encode(TextJob(to, body, (), key, "", "", STATUS_URL))


def work(
    *bodies: str, receive_count: int = 1, invocation: LambdaContext | None = None
) -> dict[str, Any]:
    """The worker's answer to a batch of these jobs, in that invocation (a new one by default)."""
    event = sqs_event(bodies, receive_count)
    return dict(handler.later_replies_handler(event, invocation or LambdaContext()))


class EndingInvocation(LambdaContext):
    """An invocation with minutes left when it starts, none once its handler is running: Lambda
    ends it at its timeout while the handler works, or it is over by the time the job's retry
    comes (30 s later, as deployed)."""

    def get_remaining_time_in_millis(self) -> int:
        left, self.remaining_millis = self.remaining_millis, 0
        return left


def failed(answer: dict[str, Any]) -> int:
    """How many jobs of the batch failed, to be retried."""
    return len(answer["batchItemFailures"])
