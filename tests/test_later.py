"""Jobs for later: a later handler's message and a text sent first, put on the queue (moto SQS)
by the webhook or by `send_text`, or, without a queue, run on this machine into the outbox."""

import json
import time
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from sms_webhook import aws, deadlines, later, local_run
from sms_webhook.config import ConfigurationError
from sms_webhook.form import FormFields
from sms_webhook.later import (
    InvalidTextError,
    QueueUnavailableError,
    TooLargeToQueueError,
    send_text,
)
from sms_webhook.local_run import LocalRun
from sms_webhook.router import Later, Router
from sms_webhook.twiml import Text
from tests.support.twilio_requests import (
    MESSAGE_SID,
    REST_URL,
    SMS,
    STATUS_URL,
    rest_request,
    signed,
)

REPORT = Later("report", "Working on it")


def queued(queue_url: str) -> list[dict]:
    """The jobs waiting on the queue."""
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_a_later_handlers_message_gets_its_acknowledgement_now(later_queue):
    assert (
        later.answer_now(REPORT, FormFields.from_pairs(SMS), STATUS_URL, Router())
        == "Working on it"
    )


def test_a_later_reply_is_queued_with_the_messages_fields_and_when(later_queue):
    later.answer_now(REPORT, FormFields.from_pairs(SMS), STATUS_URL, Router())

    [job] = queued(later_queue)
    assert time.time() - job.pop("queued_at") < 60
    assert job == {
        "version": 1,
        "job": "reply",
        "handler": "report",
        "fields": [[name, value] for name, value in SMS],
        "status_callback": STATUS_URL,
    }


def test_a_text_sent_first_is_queued_with_its_key(later_queue, monkeypatch):
    monkeypatch.setenv("STATUS_CALLBACK_URL", STATUS_URL)

    send_text("+14155550100", "Ada asks for an agent", media=["https://x.test/a.png"], key="a-1")

    [job] = queued(later_queue)
    del job["queued_at"]
    assert job == {
        "version": 1,
        "job": "text",
        "to": "+14155550100",
        "body": "Ada asks for an agent",
        "media": ["https://x.test/a.png"],
        "key": "a-1",
        "account_sid": "",  # a script's: the stack's TwilioAccountSid and SendFrom are used
        "sender": "",
        "status_callback": STATUS_URL,
    }


TEMPLATE = "HX0123456789abcdef0123456789abcdef"


def test_a_text_from_a_template_is_queued_with_its_sid_and_variables(later_queue):
    send_text("whatsapp:+14155550100", template=TEMPLATE, variables={"1": "Ana"}, key="t-1")

    [job] = queued(later_queue)
    assert (job["body"], job["template"], job["variables"]) == ("", TEMPLATE, '{"1": "Ana"}')


def test_a_template_without_variables_is_queued_with_none(later_queue):
    send_text("+14155550100", template=TEMPLATE, variables={}, key="t-1")

    assert queued(later_queue)[0]["variables"] == ""


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"template": "HX0123"}, '"HX" and 32 hex digits'),
        ({"template": "MG0123456789abcdef0123456789abcdef"}, '"HX" and 32 hex digits'),
        ({"template": TEMPLATE, "body": "hi"}, "no body, media or handler="),
        ({"template": TEMPLATE, "media": ["https://x.test/a.png"]}, "no body, media or handler="),
        ({"template": TEMPLATE, "handler": "nudge", "at": timedelta(hours=1)}, "or handler="),
        ({"body": "hi", "variables": {"1": "Ana"}}, "go with a template="),
        ({"template": TEMPLATE, "variables": {"1": ""}}, "non-empty strings"),
        ({"template": TEMPLATE, "variables": {"": "Ana"}}, "non-empty strings"),
        ({"template": TEMPLATE, "variables": {"1": 3}}, "non-empty strings"),
        ({"template": TEMPLATE, "variables": [("1", "Ana")]}, "map names to values"),
        ({"template": TEMPLATE, "variables": {"1": "y" * 1016}}, "1,024 characters .* not 1,025"),
    ],
    ids=[
        "short sid",
        "not a template's sid",
        "and a body",
        "and media",
        "and a handler",
        "variables alone",
        "empty value",
        "empty name",
        "not a string",
        "not a mapping",
        "variables over 1,024",
    ],
)
def test_a_template_twilio_would_refuse_is_an_error_and_nothing_is_queued(
    later_queue, arguments, says
):
    with pytest.raises(InvalidTextError, match=says):
        send_text("whatsapp:+14155550100", key="t-1", **arguments)
    assert queued(later_queue) == []


def test_variables_of_1024_characters_as_json_are_queued(later_queue):
    send_text("+14155550100", template=TEMPLATE, variables={"1": "y" * 1015}, key="t-1")

    assert len(queued(later_queue)[0]["variables"]) == 1024


@pytest.mark.parametrize("to", ["+1", "4155550100", "+1415555010O", "whatsapp:4155550100", ""])
def test_a_text_to_what_is_not_a_number_is_refused(later_queue, to):
    with pytest.raises(InvalidTextError, match="to must be"):
        send_text(to, "hi", key="k")
    assert queued(later_queue) == []


def test_a_whatsapp_address_is_a_number_to_text(later_queue):
    send_text("whatsapp:+14155550100", "hi", key="k")

    assert queued(later_queue)[0]["to"] == "whatsapp:+14155550100"


def test_a_text_with_neither_body_nor_media_is_refused(later_queue):
    with pytest.raises(InvalidTextError, match="body or media"):
        send_text("+14155550100", key="k")
    assert queued(later_queue) == []


@pytest.mark.parametrize(
    "media",
    [[f"https://x.test/{number}.png" for number in range(11)], ["ftp://x.test/a.png"], [None]],
    ids=["more than ten", "not http", "not a string"],
)
def test_media_twilio_would_not_send_are_refused(later_queue, media):
    with pytest.raises(InvalidTextError, match="media must be at most 10 http"):
        send_text("+14155550100", "hi", media=media, key="k")
    assert queued(later_queue) == []


def test_one_media_url_may_be_given_alone(later_queue):
    send_text("+14155550100", media="https://x.test/a.png", key="k")

    assert queued(later_queue)[0]["media"] == ["https://x.test/a.png"]


@pytest.mark.parametrize("key", ["", "k" * (later.MAX_KEY_LENGTH + 1)], ids=["empty", "too long"])
def test_a_text_needs_a_key_of_reasonable_length(later_queue, key):
    with pytest.raises(InvalidTextError, match="key"):
        send_text("+14155550100", "hi", key=key)


def test_a_body_cut_at_its_spaces_into_more_than_10_messages_is_refused(later_queue):
    words = ("y" * 800 + " ") * 19  # 15,219 characters, cut after each word: 19 messages

    with pytest.raises(InvalidTextError, match="must fit in 10 messages of 1,600 characters"):
        send_text("+14155550100", words, key="k")
    assert queued(later_queue) == []


def test_a_body_of_16000_characters_is_queued(later_queue):
    send_text("+14155550100", "x" * 16_000, key="k")

    assert len(queued(later_queue)[0]["body"]) == 16_000


@pytest.mark.parametrize(
    ("body", "counted"), [("x" * 16_001, "16,001"), ("🎉" * 8_001, "16,002")], ids=["x", "emoji"]
)
def test_a_body_over_16000_characters_as_twilio_counts_them_is_refused(later_queue, body, counted):
    with pytest.raises(InvalidTextError, match=f"16,000 characters at most.*, not {counted} "):
        send_text("+14155550100", body, key="k")
    assert queued(later_queue) == []


def test_a_job_longer_than_the_queue_takes_is_too_large_and_no_outage(later_queue, published):
    boto3.client("sqs").set_queue_attributes(
        QueueUrl=later_queue, Attributes={"MaximumMessageSize": "1024"}
    )

    with pytest.raises(TooLargeToQueueError, match="more than the queue takes"):
        send_text("+14155550100", "x" * 1_500, key="k")
    assert published() == []


def test_a_job_refused_for_another_invalid_parameter_is_not_called_too_large(later_queue):
    def refused(**_):
        error = {"Code": "InvalidParameterValue", "Message": "Value for QueueUrl is invalid"}
        raise ClientError({"Error": error}, "SendMessage")

    aws.client("sqs").meta.events.register("before-call.sqs.SendMessage", refused)

    with pytest.raises(QueueUnavailableError):
        send_text("+14155550100", "Ada asks", key="k")


def test_each_job_queued_is_counted(later_queue, published):
    later.answer_now(REPORT, FormFields.from_pairs(SMS), None, Router())

    assert [m["name"] for m in published()] == ["LaterRepliesQueued"]


def test_a_queue_out_of_reach_is_an_error_the_caller_sees_and_a_metric(
    idempotency_table, monkeypatch, published
):
    monkeypatch.setenv("LATER_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/gone")

    with pytest.raises(QueueUnavailableError):
        send_text("+14155550100", "hi", key="k")
    assert [m["name"] for m in published()] == ["LaterRepliesNotQueued"]


# Without a queue


def test_without_a_queue_a_job_goes_to_the_local_run(tmp_path):
    held = []

    with local_run.using(LocalRun(tmp_path / "outbox.jsonl", start=held.append)) as run:
        send_text("+14155550100", "hi", key="k")

    assert ([job.key for job in run.jobs], len(held)) == (["k"], 1)


def test_without_a_local_run_in_use_a_job_runs_before_send_text_returns(
    monkeypatch, tmp_path, twilio_api
):
    """As Lambda's runtime needs (`make invoke`): it stops every thread once the function has
    answered."""
    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("OUTBOX_FILE", str(outbox))
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", dict(SMS)["AccountSid"])
    monkeypatch.setenv("SEND_FROM", dict(SMS)["To"])

    send_text("+14155550100", "hi", key="k")

    assert [json.loads(line)["body"] for line in outbox.read_text().splitlines()] == ["hi"]


def test_without_a_queue_or_an_outbox_nothing_runs():
    with pytest.raises(ConfigurationError, match="LATER_QUEUE_URL"):
        send_text("+14155550100", "hi", key="k")


def test_a_local_text_goes_to_the_outbox_never_to_twilio(monkeypatch, tmp_path, twilio_api):
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SEND_FROM", "+15005550006")

    send_text("+14155550100", "hi", key="k")

    [line] = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert (json.loads(line)["body"], twilio_api.requests) == ("hi", [])


# Through the webhook


def test_the_webhook_answers_a_later_handlers_message_with_its_acknowledgement(
    later_queue, invoke, later_router
):
    answer = invoke(signed(rest_request(), REST_URL))

    assert ">Working on it</Message>" in answer["body"]
    assert [job["fields"][0] for job in queued(later_queue)] == [list(SMS[0])]


def test_a_later_handler_registered_with_true_gets_an_empty_answer(
    later_queue, invoke, answer_with
):
    router = Router()
    router.fallback(later=True)(lambda message: "later")
    answer_with(router)

    answer = invoke(signed(rest_request(), REST_URL))

    assert "<Message" not in answer["body"]
    assert len(queued(later_queue)) == 1


def test_a_message_delivered_twice_is_queued_once(
    later_queue, idempotency_table, invoke, later_router
):
    delivery = signed(rest_request(), REST_URL)

    answers = [invoke(delivery)["body"] for _ in range(2)]

    assert answers[0] == answers[1]
    assert [job["fields"] for job in queued(later_queue)] == [[list(pair) for pair in SMS]]


def test_a_message_whose_job_cannot_be_queued_is_a_503_logged(
    idempotency_table, invoke, later_router, monkeypatch, logs
):
    monkeypatch.setenv("LATER_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/gone")

    answer = invoke(signed(rest_request(), REST_URL))

    assert answer["statusCode"] == 503
    assert "later reply not queued" in logs.messages()


def test_a_text_sent_first_while_a_message_is_answered_asks_for_reports_as_the_reply_does(
    later_queue, invoke, answer_with
):
    router = Router()

    @router.fallback
    def call_an_agent(message):
        send_text("+14155550100", "A customer asks for an agent", key=message.sid)
        return "An agent will text you back shortly."

    answer_with(router)

    answer = invoke(signed(rest_request(), REST_URL))

    assert f'action="{STATUS_URL}"' in answer["body"]
    [job] = queued(later_queue)
    assert (job["status_callback"], job["sender"], job["account_sid"]) == (
        STATUS_URL,
        dict(SMS)["To"],
        dict(SMS)["AccountSid"],
    )


def test_a_stack_with_a_queue_and_no_deduplication_table_refuses_at_once_and_says_why(
    later_queue, invoke, later_router, monkeypatch, logs
):
    monkeypatch.delenv("IDEMPOTENCY_TABLE")  # Idempotency=Disabled: the worker would send nothing

    answer = invoke(signed(rest_request(), REST_URL))

    assert (answer["statusCode"], queued(later_queue)) == (500, [])
    [line] = [r for r in logs.records if r["message"] == "function misconfigured"]
    assert "deduplication table" in line["reason"]


def test_the_queued_job_names_the_message(later_queue, invoke, later_router):
    invoke(signed(rest_request(), REST_URL))

    [job] = queued(later_queue)
    assert dict(map(tuple, job["fields"]))["MessageSid"] == MESSAGE_SID


def test_a_reply_made_while_twilio_waits_is_answered_and_nothing_queued(later_queue, clock):
    deadlines.start_request(remaining_millis=30_000)
    clock.advance(deadlines.TWILIO_WAIT - deadlines.LATE_MARGIN - 0.1)

    assert later.answer_now(["Hi", "there"], FormFields.from_pairs(SMS), None, Router()) == [
        "Hi",
        "there",
    ]
    assert queued(later_queue) == []


def test_a_reply_made_once_twilio_may_have_stopped_waiting_is_queued_as_the_reply(
    later_queue, clock
):
    deadlines.start_request(remaining_millis=30_000)
    clock.advance(deadlines.TWILIO_WAIT - deadlines.LATE_MARGIN + 0.1)

    answer = later.answer_now(
        ["Hi", Text("", ["https://x.test/a.png"])], FormFields.from_pairs(SMS), STATUS_URL, Router()
    )

    [job] = queued(later_queue)
    assert answer is None
    assert (job["job"], job["texts"], job["status_callback"]) == (
        "reply",
        [["Hi", []], ["", ["https://x.test/a.png"]]],
        STATUS_URL,
    )
    assert dict(map(tuple, job["fields"]))["MessageSid"] == MESSAGE_SID


def test_an_empty_reply_made_too_late_queues_nothing(later_queue, clock):
    deadlines.start_request(remaining_millis=30_000)
    clock.advance(deadlines.TWILIO_WAIT)

    assert later.answer_now(None, FormFields.from_pairs(SMS), None, Router()) is None
    assert queued(later_queue) == []
