"""Threat: one message applied to its sender's conversation twice. The worker runs a later
handler once per MessageSid, but when the reply's record could not be written after the handler
ran (one throttled write), the job's retry ran the handler again: a counter moved to 2, and the
message stood twice in history. A webhook whose deduplication table is unavailable answers a
repeated delivery again, on the conversation the first left.

A conversation knows the messages it took: a second turn for one of them changes nothing and
gives the first reply, whatever retries it.
"""

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import handler
from devtools.lambda_context import LambdaContext
from devtools.queue_events import sqs_event
from devtools.twilio_message import SENDER, TWILIO_NUMBER, message_fields
from sms_webhook import aws
from sms_webhook.conversation import conversation_key
from sms_webhook.conversation_store import DynamoDBStore, FileStore
from sms_webhook.router import Router
from tests.conftest import CONVERSATION_TABLE, IDEMPOTENCY_TABLE, create_table
from tests.support.twilio_requests import REST_URL, rest_request, signed

KEY = conversation_key(TWILIO_NUMBER, SENDER)
COUNT = "COUNT please"
FIELDS = message_fields(COUNT)


def count(message, conversation):
    """Counts, in the conversation's state, the messages it was run on."""
    conversation.state["count"] = conversation.state.get("count", 0) + 1
    return f"count {conversation.state['count']}"


@pytest.fixture
def counting_later(monkeypatch, answer_with):
    """Reply code whose COUNT handler `count`s later, in the worker."""
    router = Router()
    router.keyword("COUNT", later=True, acknowledgement="Counting")(count)
    answer_with(router)


@pytest.fixture
def counting(monkeypatch, answer_with):
    """Reply code that `count`s every message as it answers it."""
    router = Router()
    router.fallback(count)
    answer_with(router)


@pytest.fixture
def deployed_conversations(later_queue, monkeypatch):
    """The conversation table (moto) beside the deduplication table and the queue: the store."""
    create_table(boto3.client("dynamodb"), CONVERSATION_TABLE)
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    return DynamoDBStore(CONVERSATION_TABLE)


@pytest.fixture
def local_conversations(later_queue, tmp_path):
    """The conversations in the local file, beside the deduplication table and the queue."""
    return FileStore(tmp_path / "conversations.json")


@pytest.fixture(params=["deployed_conversations", "local_conversations"])
def store(request):
    """Each store, the deployed one and the local one."""
    return request.getfixturevalue(request.param)


def seen(store) -> tuple[dict, list[tuple[str, str]]]:
    """The sender's conversation as the next message would find it: its state, and its history
    (direction and text)."""
    stored = store.read(KEY)
    history = [(turn["direction"], turn["text"]) for turn in json.loads(stored.history)]
    return json.loads(stored.state), history


class OverBeforeItsRetry(LambdaContext):
    """The worker's invocation that runs the job first, whose time is over by its retry (SQS
    brings a failed job back after a backoff): what it left in progress may be run again."""

    def get_remaining_time_in_millis(self) -> int:
        remaining, self.remaining_millis = self.remaining_millis, 0  # minutes, then none
        return remaining


@pytest.fixture
def throttled_record_write():
    """Arm DynamoDB to throttle the next write that completes a record of the deduplication
    table (Powertools' `UpdateItem`), as a table past its capacity does: the call is answered
    `ThrottlingException`, the way botocore's Stubber answers one."""
    throttled: list[str] = []

    def throttle(params, **_):
        if throttled or json.loads(params["body"])["TableName"] != IDEMPOTENCY_TABLE:
            return None
        throttled.append("UpdateItem")
        error = {"Code": "ThrottlingException", "Message": "Rate of requests exceeds the limit"}
        answer = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse(params["url"], 400, {}, None), answer

    def arm() -> list[str]:
        """Armed: the writes throttled so far (one at most)."""
        aws.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", throttle)
        return throttled

    return arm


@pytest.fixture
def job_retried_after_a_throttled_record_write(
    store, counting_later, later_queue, twilio_api, throttled_record_write, invoke
):
    """A COUNT message answered by the webhook, which queues its job; the worker runs the job,
    and the write of the reply's record is throttled, so the job fails; SQS brings it back, and
    the worker runs it again."""
    answer = invoke(signed(rest_request(fields=FIELDS), REST_URL, FIELDS))
    assert ">Counting</Message>" in answer["body"]
    [job] = boto3.client("sqs").receive_message(QueueUrl=later_queue)["Messages"]
    throttled = throttled_record_write()
    first = handler.later_replies_handler(sqs_event([job["Body"]]), OverBeforeItsRetry(300_000))
    assert (throttled, len(first["batchItemFailures"])) == (["UpdateItem"], 1)

    retry = handler.later_replies_handler(sqs_event([job["Body"]], 2), LambdaContext(300_000))

    assert retry["batchItemFailures"] == []
    return store


def test_a_job_retried_after_its_record_write_failed_counts_its_message_once(
    job_retried_after_a_throttled_record_write,
):
    state, _ = seen(job_retried_after_a_throttled_record_write)

    assert state == {"count": 1}


def test_a_job_retried_after_its_record_write_failed_keeps_its_message_once_in_history(
    job_retried_after_a_throttled_record_write,
):
    _, history = seen(job_retried_after_a_throttled_record_write)

    assert history == [("in", COUNT), ("out", "count 1")]


def test_a_job_retried_after_its_record_write_failed_sends_its_first_reply(
    job_retried_after_a_throttled_record_write, twilio_api
):
    assert [form["Body"] for form in twilio_api.forms] == ["count 1"]


# The webhook, its deduplication unavailable


@pytest.fixture
def deduplication_unavailable(aws_account, monkeypatch):
    """The deduplication table cannot be used (never created): the webhook answers each
    delivery, a repeated one too."""
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "not-created")


def test_a_delivery_repeated_while_deduplication_is_unavailable_is_applied_once(
    deduplication_unavailable, counting, invoke, tmp_path
):
    delivery = signed(rest_request(fields=FIELDS), REST_URL, FIELDS)

    answers = [invoke(delivery)["body"] for _ in range(2)]

    assert [">count 1</Message>" in answer for answer in answers] == [True, True]
    assert seen(FileStore(tmp_path / "conversations.json"))[0] == {"count": 1}
