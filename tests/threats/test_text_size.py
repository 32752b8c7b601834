"""Threat: a text far longer than anyone would read, queued and sent at the price of hundreds of
messages; or refused by SQS and taken for an outage.

`send_text` takes at most 16,000 characters (10 messages of 1,600, counted as Twilio counts):
beyond, the handler that called it gets `InvalidTextError` before anything is queued. SQS
refusing a job as longer than the queue takes (1 MiB, in moto as in AWS) is the job's fault, not
the queue's: the caller gets `TooLargeToQueueError`, and `LaterRepliesNotQueued` (the metric of
an outage) is not counted.
"""

import boto3
import pytest

from sms_webhook.later import InvalidTextError, send_text
from sms_webhook.router import Router
from tests.support.twilio_requests import REST_URL, rest_request, signed

STAFF = "+14155550100"


def queued(queue_url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def texting_staff_with(monkeypatch, answer_with):
    """Reply code whose every message texts staff first with what the test gives, and answers
    with why that text was refused, if it was."""

    def reply_code(body: str, media: list[str]) -> None:
        router = Router()

        @router.fallback
        def call_an_agent(message):
            try:
                send_text(STAFF, body, media=media, key=message.sid)
            except InvalidTextError as refused:
                return f"not sent: {refused}"
            return "sent"

        answer_with(router)

    return reply_code


def test_a_text_of_300000_characters_is_refused_in_the_handler_before_anything_is_queued(
    later_queue, invoke, texting_staff_with, published
):
    texting_staff_with("x" * 300_000, [])

    answer = invoke(signed(rest_request(), REST_URL))

    assert (
        "not sent: body must fit in 10 messages of 1,600 characters, cut at spaces (16,000 "
        "characters at most), not 300,000 characters" in answer["body"]
    )
    assert queued(later_queue) == 0
    assert "LaterRepliesNotQueued" not in [m["name"] for m in published()]


def test_a_job_longer_than_sqs_takes_is_refused_as_too_large_not_as_an_outage(
    later_queue, invoke, texting_staff_with, published, logs
):
    pictures = [f"https://example.com/{'p' * 110_000}/{number}.png" for number in range(10)]
    texting_staff_with("Ada asks for an agent", pictures)  # 1.1 MB of media URLs

    answer = invoke(signed(rest_request(), REST_URL))

    assert answer["statusCode"] == 200
    assert "more than the queue takes" in answer["body"]
    assert queued(later_queue) == 0
    assert "LaterRepliesNotQueued" not in [m["name"] for m in published()]
    assert "later reply not queued" not in logs.messages()
