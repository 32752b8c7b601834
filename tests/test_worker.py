"""The worker (`sms_webhook/worker.py`): each queued job run once, its texts sent once with
twilio's REST client (against a recording stand-in of Twilio's API), Twilio's refusals done with,
its outages retried."""

import functools
import json
import time

import boto3
import pytest

import handler
from devtools.invoke import free_port
from devtools.lambda_context import LambdaContext
from devtools.queue_events import sqs_event
from sms_webhook import sending, worker
from sms_webhook.conversation import Conversation
from sms_webhook.jobs import TextJob, encode
from sms_webhook.later import send_text
from sms_webhook.router import Router
from sms_webhook.telemetry import pseudonym
from sms_webhook.twiml import MAX_MESSAGE_LENGTH, Text
from tests.conftest import IDEMPOTENCY_TABLE
from tests.support.loopback_twilio import LoopbackTwilio, loopback_server
from tests.support.recording_twilio import ACCOUNT_SID, Crash
from tests.support.twilio_requests import (
    MESSAGE_SID,
    SENDER,
    SMS,
    STATUS_URL,
    TOKEN,
    TWILIO_NUMBER,
    with_fields,
)
from tests.support.worker_jobs import EndingInvocation, failed, reply_job, text_job, work

pytestmark = pytest.mark.usefixtures("idempotency_table")  # the worker, as deployed


@pytest.fixture
def router(answer_with) -> Router:
    """A router whose every message is answered later, in two texts, which the webhook and the
    worker answer with."""
    router = Router()

    @router.fallback(later=True, acknowledgement="Working on it")
    def report(message):
        return ["Your report:", "all is well."]

    return answer_with(router).router


# A later reply


def test_a_later_reply_is_sent_to_the_sender_from_the_number_texted(router, twilio_api):
    assert failed(work(reply_job(router))) == 0

    assert [(form["To"], form["From"], form["Body"]) for form in twilio_api.forms] == [
        (SENDER, TWILIO_NUMBER, "Your report:"),
        (SENDER, TWILIO_NUMBER, "all is well."),
    ]


def test_a_later_reply_asks_for_delivery_reports_on_status(router, twilio_api):
    work(reply_job(router))

    assert {form["StatusCallback"] for form in twilio_api.forms} == {STATUS_URL}


def test_a_later_reply_is_sent_as_the_messages_account_with_the_auth_token(router, twilio_api):
    work(reply_job(router))

    request = twilio_api.requests[0]
    assert request.auth == (ACCOUNT_SID, TOKEN)
    assert f"/Accounts/{ACCOUNT_SID}/Messages.json" in request.url


def test_a_message_to_a_messaging_service_is_answered_through_it(router, twilio_api):
    service = "MG0123456789abcdef0123456789abcdef"
    work(reply_job(router, with_fields(SMS, MessagingServiceSid=service)))

    form = twilio_api.forms[0]
    assert (form["MessagingServiceSid"], "From" in form) == (service, False)


def test_a_later_reply_with_media_is_sent_with_their_urls(twilio_api, answering_later):
    picture = "https://example.com/report.png"
    router = answering_later(lambda message: Text("Your chart", media=[picture]))

    work(reply_job(router))

    [form] = twilio_api.forms
    assert (form["Body"], form["MediaUrl"]) == ("Your chart", [picture])


def test_a_later_reply_of_media_alone_is_sent_without_a_body(twilio_api, answering_later):
    picture = "https://example.com/report.png"
    router = answering_later(lambda message: Text("", media=[picture]))

    work(reply_job(router))

    [form] = twilio_api.forms
    assert (form["MediaUrl"], "Body" in form) == ([picture], False)


@pytest.mark.parametrize("kind", ["later reply", "text sent first"])
def test_a_long_text_is_sent_in_messages_twilio_accepts(
    kind, sending_account, twilio_api, answering_later
):
    long_text = "word " * 1000
    router = answering_later(lambda message: long_text)

    work(reply_job(router) if kind == "later reply" else text_job(body=long_text))

    assert len(twilio_api.forms) == 4
    assert all(len(form["Body"]) <= MAX_MESSAGE_LENGTH for form in twilio_api.forms)


def test_a_later_reply_of_10_messages_is_sent_whole(twilio_api, answering_later):
    router = answering_later(lambda message: ["y" * MAX_MESSAGE_LENGTH] * 10)

    assert failed(work(reply_job(router))) == 0

    assert len(twilio_api.forms) == 10


def test_a_later_reply_over_10_messages_is_not_sent_and_the_job_is_done(
    twilio_api, logs, published, answering_later
):
    router = answering_later(lambda message: [f"line {number}" for number in range(11)])

    assert failed(work(reply_job(router))) == 0

    assert twilio_api.forms == []
    [line] = [r for r in logs.records if r["message"].startswith("text not sent: longer")]
    assert (line["messages"], line["to"]) == (11, pseudonym(SENDER, TOKEN))
    assert failures(published) == ["too_large"]


def test_half_a_character_is_dropped_from_a_later_reply_and_the_rest_sent(
    twilio_api, logs, answering_later
):
    router = answering_later(lambda message: "Your report\ud83d is ready")

    assert failed(work(reply_job(router))) == 0

    assert [form["Body"] for form in twilio_api.forms] == ["Your report is ready"]
    [line] = [r for r in logs.records if r["message"].startswith("text characters dropped")]
    assert line["dropped"] == 1


def test_a_later_handler_gets_the_conversation_and_its_changes_are_saved(twilio_api, answer_with):
    router = Router()

    @router.fallback(later=True)
    def counted(message, conversation: Conversation):
        conversation.state["runs"] = conversation.state.get("runs", 0) + 1
        return f"run {conversation.state['runs']}"

    answer_with(router)

    second = with_fields(SMS, MessageSid="SM" + "2" * 32)
    work(reply_job(router))
    work(reply_job(router, second))

    assert [form["Body"] for form in twilio_api.forms] == ["run 1", "run 2"]


# Once, whatever SQS and crashes do


def test_a_job_delivered_twice_runs_its_handler_and_sends_once(
    idempotency_table, twilio_api, later_queue, answering_later
):
    runs = []
    router = answering_later(lambda message: runs.append(message.sid) or "done")
    job = reply_job(router)

    work(job)
    work(job, receive_count=2)

    assert (runs, len(twilio_api.forms)) == ([MESSAGE_SID], 1)


def test_a_crash_after_twilio_took_the_text_never_sends_it_again(
    router, idempotency_table, twilio_api, later_queue, logs
):
    twilio_api.outcomes = [201, Crash()]  # the second text taken, then the worker dies
    with pytest.raises(Crash):
        work(reply_job(router))

    answer = work(reply_job(router), receive_count=2)

    assert [form["Body"] for form in twilio_api.forms] == ["Your report:", "all is well."]
    assert failed(answer) == 1  # retried, then to the dead-letter queue: never sent twice


def test_a_handler_cut_off_at_the_workers_timeout_runs_again_on_the_retry(
    idempotency_table, twilio_api, later_queue, answering_later
):
    runs = []

    def report(message):
        runs.append(message.sid)
        if len(runs) == 1:
            raise Crash  # Lambda ends the invocation
        return "Your report"

    router = answering_later(report)
    event = sqs_event([reply_job(router)])
    with pytest.raises(Crash):
        handler.later_replies_handler(event, EndingInvocation(300_000))

    answer = work(reply_job(router), receive_count=2)

    assert (len(runs), [form["Body"] for form in twilio_api.forms]) == (2, ["Your report"])
    assert failed(answer) == 0


def test_a_reply_recorded_before_records_were_kept_in_utf8_is_sent_as_recorded(
    idempotency_table, twilio_api, answering_later
):
    runs = []
    router = answering_later(lambda message: runs.append(1) or "a new reply")
    as_recorded_before = json.dumps([Text("日本語の返事", ())])  # as written before: \\u65e5…
    worker.records(IDEMPOTENCY_TABLE)(f"reply {MESSAGE_SID}", lambda: as_recorded_before, None)

    work(reply_job(router))

    assert (runs, [form["Body"] for form in twilio_api.forms]) == ([], ["日本語の返事"])


# Twilio's refusals and outages


@pytest.mark.parametrize(
    ("status", "code", "counted"),
    [(400, 21610, "21610"), (400, 21211, "21211"), (400, 63016, "63016")],
)
def test_a_text_twilio_refuses_for_good_is_logged_counted_and_not_retried(
    router, twilio_api, logs, published, status, code, counted
):
    twilio_api.outcomes = [(status, code), (status, code)]

    answer = work(reply_job(router))

    assert failed(answer) == 0
    lines = [r for r in logs.records if r["message"] == "text not sent: Twilio refused it"]
    assert lines[0]["error_code"] == str(code)
    opted_out = code == 21610  # the rest of the reply is not tried
    assert failures(published) == ([counted] if opted_out else [counted, counted])


def failures(published) -> list[str]:
    return [m["ErrorCode"] for m in published() if m["name"] == "LaterRepliesFailed"]


@pytest.mark.parametrize(
    ("outcome", "counted"),
    [
        ((429, 20429), "20429"),
        ((500, 20500), "5xx"),
        ((503, 20503), "5xx"),
        ((401, 20003), "20003"),
        ((400, 30999), "other"),
    ],
    ids=["429", "500", "503", "a rejected key", "an unknown code"],
)
def test_any_other_error_of_twilio_fails_the_job_for_a_retry_logged_with_its_code(
    router, twilio_api, published, logs, outcome, counted
):
    twilio_api.outcomes = [outcome]

    answer = work(reply_job(router))

    assert failed(answer) == 1
    assert failures(published) == [counted]
    [line] = [r for r in logs.records if r["message"] == "text not sent yet: the job is retried"]
    assert line["error_code"] == str(outcome[1])


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused."""
    return free_port()


@pytest.fixture
def silent_server():
    """A server on loopback that reads each request whole and never answers."""
    requests_read = []
    with loopback_server(lambda connection: requests_read.append(connection.recv(65536))) as port:
        yield port, requests_read


def test_a_text_twilio_could_not_be_reached_for_is_retried(
    router, closed_port, monkeypatch, published
):
    monkeypatch.setattr(
        sending, "http_client", functools.cache(lambda: LoopbackTwilio(closed_port))
    )

    answer = work(reply_job(router))

    assert (failed(answer), failures(published)) == (1, ["network"])


@pytest.fixture
def closing_server():
    """A server on loopback that closes each connection at once: no TLS handshake completes."""
    with loopback_server(lambda connection: connection.close()) as port:
        yield port


def test_a_text_whose_connection_failed_before_its_tls_handshake_is_retried(
    router, closing_server, monkeypatch, published
):
    client = LoopbackTwilio(closing_server, scheme="https")
    monkeypatch.setattr(sending, "http_client", functools.cache(lambda: client))

    answer = work(reply_job(router))

    assert (failed(answer), failures(published)) == (1, ["network"])


def test_a_text_twilio_took_without_answering_in_time_is_never_sent_again(
    silent_server, monkeypatch, published, logs, later_queue, answering_later
):
    port, requests_read = silent_server
    monkeypatch.setattr(sending, "http_client", functools.cache(lambda: LoopbackTwilio(port)))
    router = answering_later(lambda message: "Your report")

    first = work(reply_job(router))
    again = work(reply_job(router), receive_count=2)

    assert (failed(first), failed(again), len(requests_read)) == (0, 0, 1)
    assert failures(published) == ["timeout"]
    assert "text may not have been sent: Twilio did not answer in time" in logs.messages()


def test_a_retried_job_sends_only_what_was_not_sent(
    router, idempotency_table, twilio_api, later_queue
):
    twilio_api.outcomes = [201, (503, 20503)]
    work(reply_job(router))

    work(reply_job(router), receive_count=2)

    assert [form["Body"] for form in twilio_api.forms] == [
        "Your report:",
        "all is well.",
        "all is well.",
    ]


@pytest.mark.parametrize(("receive_count", "delay"), [(1, 30), (2, 60), (3, 120), (9, 900)])
def test_a_failed_job_comes_back_after_a_delay_that_doubles(
    router, twilio_api, monkeypatch, receive_count, delay
):
    changes = []

    class Queue:
        def change_message_visibility(self, **arguments):
            changes.append(arguments["VisibilityTimeout"])

    monkeypatch.setenv("LATER_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    clients = {"sqs": Queue(), "dynamodb": worker.aws.client("dynamodb")}
    monkeypatch.setattr(worker.aws, "client", functools.cache(clients.get))
    twilio_api.outcomes = [(503, 20503)]

    work(reply_job(router), receive_count=receive_count)

    assert changes == [delay]


def test_a_failed_job_is_hidden_on_the_queue_until_its_retry(router, twilio_api, later_queue):
    sqs = boto3.client("sqs")
    sqs.set_queue_attributes(QueueUrl=later_queue, Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=later_queue, MessageBody=reply_job(router))
    [received] = sqs.receive_message(QueueUrl=later_queue)["Messages"]
    event = sqs_event([received["Body"]])
    event["Records"][0]["receiptHandle"] = received["ReceiptHandle"]
    twilio_api.outcomes = [(503, 20503)]

    handler.later_replies_handler(event, LambdaContext())

    assert "Messages" not in sqs.receive_message(QueueUrl=later_queue)


def test_a_handler_that_raises_fails_the_job_with_a_line_saying_where(
    twilio_api, logs, answering_later
):
    router = answering_later(lambda message: 1 / 0)

    answer = work(reply_job(router))

    assert (failed(answer), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert (line["error"], line["at"].startswith(__file__)) == ("ZeroDivisionError", True)


def test_a_job_for_a_handler_no_longer_there_fails_and_says_so(twilio_api, logs):
    job = {"job": "reply", "route": "replies.since_renamed", "fields": [], "status_callback": None}
    job["fields"] = [[name, value] for name, value in SMS]
    answer = work(json.dumps(job))

    assert (failed(answer), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert line["reason"] == "no handler runs later as since_renamed: renamed or removed?"


def test_only_the_failed_jobs_of_a_batch_are_retried(router, sending_account, twilio_api):
    twilio_api.outcomes = [201, 201, (503, 20503)]

    answer = work(reply_job(router), text_job(), reply_job(router))

    assert failed(answer) == 1


# Texts sent first


def test_a_text_sent_first_comes_from_the_configured_number(sending_account, twilio_api):
    work(text_job(to="+14155550100", body="Ada asks for an agent"))

    [form] = twilio_api.forms
    assert (form["To"], form["From"], form["Body"]) == (
        "+14155550100",
        TWILIO_NUMBER,
        "Ada asks for an agent",
    )


def test_a_text_sent_first_from_a_messaging_service_names_it(monkeypatch, twilio_api):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("SEND_FROM", "MG0123456789abcdef0123456789abcdef")

    work(text_job())

    assert twilio_api.forms[0]["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef"


def test_one_key_sends_one_text_to_each_recipient(sending_account, twilio_api):
    work(text_job(key="SM1", to="+14155550100"), text_job(key="SM1", to="+14155550101"))
    work(text_job(key="SM1", to="+14155550100"), receive_count=2)

    assert [form["To"] for form in twilio_api.forms] == ["+14155550100", "+14155550101"]


def test_a_text_sent_first_is_sent_once_per_key(
    sending_account, idempotency_table, twilio_api, later_queue
):
    work(text_job(key="agent-SM1"), text_job(key="agent-SM1"), text_job(key="agent-SM2"))

    assert len(twilio_api.forms) == 2


def test_a_text_from_a_script_without_the_stacks_number_fails_and_says_why(twilio_api, logs):
    answer = work(text_job())

    assert (failed(answer), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert (
        line["reason"]
        == "a text sent from a script needs the stack's TwilioAccountSid and SendFrom"
    )


def test_a_text_a_handler_sends_first_goes_from_the_number_its_message_was_sent_to(twilio_api):
    job = {**json.loads(text_job()), "account_sid": ACCOUNT_SID, "sender": TWILIO_NUMBER}

    work(json.dumps(job))

    assert twilio_api.forms[0]["From"] == TWILIO_NUMBER
    assert f"/Accounts/{ACCOUNT_SID}/" in twilio_api.requests[0].url


def test_a_text_to_a_whatsapp_address_goes_from_the_number_on_whatsapp(
    sending_account, twilio_api, wrote_on_whatsapp
):
    wrote_on_whatsapp("whatsapp:+14155550100")

    work(text_job(to="whatsapp:+14155550100"))

    assert twilio_api.forms[0]["From"] == f"whatsapp:{TWILIO_NUMBER}"


TEMPLATE = "HX0123456789abcdef0123456789abcdef"


def template_job(to: str = "whatsapp:+14155550100") -> str:
    """A reminder from a Content template, as `send_text(to, template=, variables=)` queues it."""
    variables = '{"1": "Ana", "2": "3pm"}'
    return encode(
        TextJob(to, "", (), "r-1", "", "", STATUS_URL, template=TEMPLATE, variables=variables)
    )


def test_a_template_reaches_twilio_by_its_sid_with_its_variables_and_no_body(
    sending_account, twilio_api
):
    work(template_job())

    assert twilio_api.forms == [
        {
            "To": "whatsapp:+14155550100",
            "From": f"whatsapp:{TWILIO_NUMBER}",
            "ContentSid": TEMPLATE,
            "ContentVariables": '{"1": "Ana", "2": "3pm"}',
            "StatusCallback": STATUS_URL,
        }
    ]


def test_a_template_twilio_could_not_take_is_sent_the_same_by_the_retry_and_once(
    sending_account, idempotency_table, twilio_api, later_queue
):
    twilio_api.outcomes = [(503, 20503)]
    assert failed(work(template_job())) == 1

    work(template_job(), receive_count=2)
    work(template_job(), receive_count=3)  # delivered once more: sent already

    tried, sent = twilio_api.forms
    assert tried == sent
    assert (sent["ContentSid"], sent["ContentVariables"]) == (TEMPLATE, '{"1": "Ana", "2": "3pm"}')


def test_a_template_counts_no_segments_its_text_being_twilios(
    sending_account, twilio_api, logs, published
):
    work(template_job(to="+14155550100"))

    [record] = [r for r in logs.records if r["message"] == "text sent"]
    assert (record["segments"], record.get("encoding")) == (0, None)
    assert [m["value"] for m in published() if m["name"] == "SegmentsSent"] == [0]


def test_a_later_reply_cut_at_its_spaces_into_more_than_10_messages_is_not_sent(
    twilio_api, logs, published, answering_later
):
    words = ("y" * 800 + " ") * 19  # 15,219 characters, cut after each word: 19 messages
    router = answering_later(lambda message: words)

    assert failed(work(reply_job(router))) == 0

    assert twilio_api.forms == []
    [line] = [r for r in logs.records if r["message"].startswith("text not sent: longer")]
    assert line["messages"] == 19


def test_a_text_job_over_16000_characters_is_not_sent_and_not_retried(
    sending_account, twilio_api, logs, published
):
    answer = work(text_job(body="x" * 16_001))

    assert (failed(answer), twilio_api.forms) == (0, [])
    [line] = [r for r in logs.records if r["message"].startswith("text not sent: longer")]
    assert line["messages"] == 11
    assert failures(published) == ["too_large"]


def test_a_job_queued_longer_ago_than_its_records_last_is_not_run(
    sending_account, twilio_api, logs
):
    queued_at = time.time() - worker.MAX_JOB_AGE - 60
    answer = work(json.dumps({**json.loads(text_job()), "queued_at": queued_at}))

    assert (failed(answer), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert line["reason"].startswith("queued 14 days ago")


# Credentials


def test_with_an_api_key_in_ssm_texts_are_sent_with_it(router, ssm, twilio_api, monkeypatch):
    ssm.put_parameter(
        Name="/twilio/api-key",
        Value="SK0123456789abcdef0123456789abcdef:sendingsecret0451",
        Type="SecureString",
    )
    monkeypatch.setenv("TWILIO_API_KEY_PARAMETER", "/twilio/api-key")

    work(reply_job(router))

    assert twilio_api.requests[0].auth == (
        "SK0123456789abcdef0123456789abcdef",
        "sendingsecret0451",
    )


def test_an_api_key_parameter_without_a_key_fails_the_job(router, ssm, twilio_api, monkeypatch):
    ssm.put_parameter(Name="/twilio/api-key", Value="not a key", Type="SecureString")
    monkeypatch.setenv("TWILIO_API_KEY_PARAMETER", "/twilio/api-key")

    assert (failed(work(reply_job(router))), twilio_api.forms) == (1, [])


# Locally


def test_with_an_outbox_nothing_goes_to_twilio(router, twilio_api, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("OUTBOX_FILE", str(outbox))

    work(reply_job(router))

    assert twilio_api.requests == []
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert [(line["to"], line["body"]) for line in lines] == [
        (SENDER, "Your report:"),
        (SENDER, "all is well."),
    ]


def test_each_text_sent_is_counted(router, twilio_api, published):
    work(reply_job(router))

    assert [m["value"] for m in published() if m["name"] == "LaterRepliesSent"] == [1, 1]


def test_each_text_sent_is_logged_with_its_segments_and_encoding_and_they_are_counted(
    router, twilio_api, logs, published
):
    work(reply_job(router))

    sent = [(r["segments"], r["encoding"]) for r in logs.records if r["message"] == "text sent"]
    assert sent == [(1, "GSM-7"), (1, "GSM-7")]
    assert [m["value"] for m in published() if m["name"] == "SegmentsSent"] == [1, 1]


@pytest.mark.parametrize(
    ("to", "media", "body", "expected"),
    [
        ("+14155550100", (), "こんにちは" * 20, (2, "UCS-2")),
        ("+14155550100", ("https://example.com/ticket.png",), "a" * 500, (0, None)),
        ("whatsapp:+14155550100", (), "a" * 500, (0, None)),
    ],
    ids=["japanese", "mms", "whatsapp"],
)
def test_a_text_sent_first_counts_its_sms_segments_only(
    sending_account, twilio_api, logs, published, wrote_on_whatsapp, to, media, body, expected
):
    wrote_on_whatsapp(to)

    work(encode(TextJob(to, body, media, "agent-1", "", "", STATUS_URL)))

    [record] = [r for r in logs.records if r["message"] == "text sent"]
    assert (record["segments"], record.get("encoding")) == expected
    assert [m["value"] for m in published() if m["name"] == "SegmentsSent"] == [expected[0]]


def test_the_recipient_is_logged_as_a_pseudonym(router, twilio_api, logs):
    work(reply_job(router))

    recipients = {r["to"] for r in logs.records if r["message"] == "text sent"}
    assert recipients == {pseudonym(SENDER, TOKEN)}


def test_without_a_token_to_key_it_the_recipient_is_not_logged(router, monkeypatch, tmp_path, logs):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))

    work(reply_job(router))

    assert {r["to"] for r in logs.records if r["message"] == "text sent"} == {"unknown"}


def test_a_deployed_worker_without_the_deduplication_table_sends_nothing_and_says_why(
    router, twilio_api, monkeypatch, logs
):
    monkeypatch.delenv("IDEMPOTENCY_TABLE")

    answer = work(reply_job(router))

    assert (failed(answer), twilio_api.requests) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert line["error"] == "ConfigurationError"


@pytest.mark.parametrize(
    "event",
    [{}, {"Records": "none"}, [], "hello", None, {"Records": ["x"]}, {"Records": [{"body": "{}"}]}],
)
def test_an_event_that_is_no_batch_of_sqs_messages_is_one_line_and_no_job(event, twilio_api, logs):
    answer = handler.later_replies_handler(event, LambdaContext())

    assert (answer, twilio_api.requests) == ({"batchItemFailures": []}, [])
    assert "not an SQS event: no job to run" in logs.messages()


def test_a_text_a_later_handler_sends_first_asks_for_reports_as_its_reply_does(
    later_queue, answer_with
):
    router = Router()

    @router.fallback(later=True)
    def call_an_agent(message):
        send_text("+14155550100", "A customer asks for an agent", key=message.sid)

    answer_with(router)

    work(reply_job(router, status_callback=STATUS_URL))

    [queued] = boto3.client("sqs").receive_message(QueueUrl=later_queue)["Messages"]
    assert json.loads(queued["Body"])["status_callback"] == STATUS_URL


def test_a_later_reply_sends_only_the_fields_of_the_rest_api(router, twilio_api):
    work(reply_job(router))

    assert set(twilio_api.forms[0]) == {"To", "From", "Body", "StatusCallback"}


# Jobs written by other releases


def test_a_job_queued_before_versions_finds_a_renamed_handler_by_its_old_name(
    twilio_api, answer_with
):
    router = Router()
    router.fallback(later=True, name="report")(lambda message: "Your report")
    answer_with(router)
    job = {"job": "reply", "route": "replies.report", "status_callback": None}

    answer = work(json.dumps({**job, "fields": [list(pair) for pair in SMS]}))

    assert (failed(answer), [form["Body"] for form in twilio_api.forms]) == (0, ["Your report"])


def test_a_job_of_a_newer_release_fails_and_says_which_version(twilio_api, logs):
    answer = work(json.dumps({"version": 3, "job": "reply"}))

    assert (failed(answer), twilio_api.forms) == (1, [])
    [line] = [r for r in logs.records if r["message"] == "later reply failed"]
    assert line["reason"] == "written in version 3: this code reads 2"
