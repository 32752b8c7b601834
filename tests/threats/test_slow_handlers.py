"""Reply code that thinks for seconds (a language model, a booking system) keeps what it did.

A request's time is in three parts (sms_webhook/deadlines.py): reads before reply code, reply
code's own 10 s, and a window after it for the writes that save what it did. These handlers run
against the deployed stack's tables and queue in a moto server on loopback, so every write is a
real call over a socket. The first tests sleep for real; those past Twilio's 15 s move the
request's clock instead.
"""

import json
import time

import boto3
import pytest

from sms_webhook import aws
from sms_webhook.later import send_text
from sms_webhook.router import Router
from tests.conftest import CONVERSATION_TABLE, IDEMPOTENCY_TABLE, STAFF
from tests.support.twilio_requests import REST_URL, SMS, WHATSAPP, rest_request, signed
from tests.support.worker_jobs import work

pytestmark = pytest.mark.usefixtures("real_deadlines")  # what these tests measure


def thinking_handler(think):
    """A router whose every message counts itself in the conversation, takes `think()` to
    answer (a language model's call), then texts staff first and answers."""
    router = Router()

    @router.fallback
    def answer(message, conversation):
        think()
        conversation.state["messages"] = conversation.state.get("messages", 0) + 1
        send_text(STAFF, f"Asked: {message.body}", key=message.sid)
        return "Thought it over."

    return router


def saved_state() -> dict:
    [item] = boto3.client("dynamodb").scan(TableName=CONVERSATION_TABLE)["Items"]
    return json.loads(item["state"]["S"])


def record_statuses() -> list[str]:
    items = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    return sorted(item["status"]["S"] for item in items)


def queued_jobs() -> list[dict]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="LaterRepliesQueue")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [0.2, 1.2, 2.5, 5])
def test_a_handler_that_thinks_has_its_state_saved_its_records_completed_its_text_queued(
    deployed_on_loopback, invoke, seconds, answer_with
):
    answer_with(thinking_handler(lambda: time.sleep(seconds)))

    response = invoke(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 200
    assert ">Thought it over.</Message>" in response["body"]
    assert saved_state() == {"messages": 1}
    assert record_statuses() == ["COMPLETED", "COMPLETED"]
    assert [job["to"] for job in queued_jobs()] == [STAFF]


def test_reply_code_that_overruns_its_time_is_logged_counted_and_still_saved(
    deployed_on_loopback, invoke, clock, logs, published, answer_with
):
    answer_with(thinking_handler(lambda: clock.advance(11)))

    response = invoke(signed(rest_request(), REST_URL))

    assert ">Thought it over.</Message>" in response["body"]
    assert saved_state() == {"messages": 1}
    assert record_statuses() == ["COMPLETED", "COMPLETED"]
    [overran] = [r for r in logs.records if r["message"].startswith("reply code overran")]
    assert overran["seconds"] == 11
    assert "SlowReplies" in [metric["name"] for metric in published()]


@pytest.mark.parametrize("fields", [SMS, WHATSAPP], ids=["sms", "whatsapp"])
def test_a_reply_ready_after_twilio_stopped_waiting_is_sent_from_the_number_texted(
    deployed_on_loopback,
    invoke,
    clock,
    twilio_api,
    sending_account,
    fields,
    answer_with,
):
    answer_with(thinking_handler(lambda: clock.advance(20)))

    response = invoke(signed(rest_request(fields=fields), REST_URL, fields))
    [late_reply] = [job for job in queued_jobs() if job["job"] == "reply"]
    work(json.dumps(late_reply))

    assert "<Message" not in response["body"]
    assert saved_state() == {"messages": 1}
    sent = dict(fields)
    assert [(form["From"], form["To"], form["Body"]) for form in twilio_api.forms] == [
        (sent["To"], sent["From"], "Thought it over.")
    ]


def test_reply_code_that_fails_runs_once_even_when_its_records_cannot_be_cleared(
    deployed_on_loopback, invoke, answer_with
):
    runs = []

    def fail_after_a_while(message):
        runs.append(message.sid)
        raise RuntimeError("the booking system is down")

    router = Router()
    router.fallback(fail_after_a_while)
    answer_with(router)

    def no_time_to_clear(**_):
        raise aws.OutOfTimeError("no time left in this request for another AWS call")

    aws.client("dynamodb").meta.events.register("before-send.dynamodb.DeleteItem", no_time_to_clear)

    response = invoke(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 500
    assert len(runs) == 1
