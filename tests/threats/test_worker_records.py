"""Threat: a later reply the worker cannot record, which it would then run, and fail on, again and
again until the job lands in the dead-letter queue, having sent nothing.

The worker records each later reply (Powertools Idempotency on the deduplication table, moto)
before it sends a word, and DynamoDB takes no item over 400 KB. Its records hold text in UTF-8,
3 bytes for a Japanese character where Powertools' JSON takes 6 or 7; a reply over what Twilio
can send (10 messages of 1,600 characters), or over what a record holds, is a final error, logged
and counted: the job is done, never retried.
"""

import boto3
import pytest

from sms_webhook import worker
from sms_webhook.twiml import MAX_MESSAGES, Text
from tests.conftest import IDEMPOTENCY_TABLE
from tests.support.worker_jobs import EndingInvocation, failed, reply_job, work

pytestmark = pytest.mark.usefixtures("idempotency_table", "later_queue")

JAPANESE = "日本語のメッセージです"
"""Characters of three bytes each in UTF-8, and of one unit each as Twilio counts."""


def japanese(characters: int) -> str:
    return (JAPANESE * (characters // len(JAPANESE) + 1))[:characters]


def delivered(job: str, times: int) -> list[int]:
    """The job delivered `times` times, each in an invocation over by the time of the next (as
    SQS's retries come 30 s and more later): how many failed, each time."""
    return [
        failed(work(job, receive_count=count, invocation=EndingInvocation(300_000)))
        for count in range(1, times + 1)
    ]


def failures(published) -> list[str]:
    return [m["ErrorCode"] for m in published() if m["name"] == "LaterRepliesFailed"]


def largest_record() -> int:
    """The bytes of the largest value the worker recorded, as DynamoDB holds it (UTF-8)."""
    items = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    return max(len(item["data"]["S"].encode()) for item in items if "data" in item)


def test_a_reply_longer_than_twilio_can_send_runs_once_and_is_a_final_error(
    twilio_api, logs, published, answering_later
):
    runs = []
    router = answering_later(lambda message: runs.append(1) or japanese(64_000))

    assert delivered(reply_job(router), times=5) == [0, 0, 0, 0, 0]

    assert (len(runs), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"].startswith("text not sent: longer than")]
    assert (line["message"], line["messages"]) == (
        "text not sent: longer than 10 messages of 1,600 characters",
        40,
    )
    assert failures(published) == ["too_large"]


def test_a_reply_of_16000_japanese_characters_is_recorded_in_utf8_and_sent_whole(
    twilio_api, answering_later
):
    router = answering_later(lambda message: japanese(16_000))

    assert failed(work(reply_job(router))) == 0

    assert "".join(form["Body"] for form in twilio_api.forms) == japanese(16_000)
    assert len(twilio_api.forms) == MAX_MESSAGES
    assert largest_record() < 3 * 16_000 + 1_000  # 3 bytes a character; it was 112,014 bytes


def test_a_reply_too_large_to_record_is_a_final_error_and_never_retried(
    twilio_api, logs, published, answering_later
):
    pictures = [f"https://example.com/{'p' * 4_100}/{number}.png" for number in range(10)]
    router = answering_later(lambda message: [Text(f"page {page}", pictures) for page in range(10)])

    assert delivered(reply_job(router), times=2) == [0, 0]

    assert twilio_api.forms == []
    [line] = [r for r in logs.records if r["message"] == "text not sent: too large to record"]
    assert line["record_bytes"] > worker.MAX_RECORD_SIZE
    assert failures(published) == ["too_large"]
