"""Timers as deployed (`sms_webhook/timers.py`): a reminder is an EventBridge Scheduler one-time
schedule (moto) that puts its job on the later-replies queue when due, and the worker sends it.

moto records schedules and never fires them: a test fires one by doing what the Scheduler does
when it is due, deleting it (`ActionAfterCompletion: DELETE`) and putting its Input on the queue,
which Lambda hands the worker as an SQS event."""

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import handler
import replies
from devtools.lambda_context import LambdaContext
from devtools.queue_events import sqs_event
from sms_webhook import timers, worker
from sms_webhook.config import ConfigurationError
from sms_webhook.conversation import Conversation
from sms_webhook.jobs import NotScheduledError, TextJob, TimerJob, decode
from sms_webhook.later import InvalidTextError, cancel_text, send_text
from sms_webhook.router import Router, Timer
from sms_webhook.telemetry import pseudonym
from sms_webhook.timers import InvalidTimeError
from tests.conftest import (
    CONVERSATION_TABLE,
    DEAD_LETTER_QUEUE,
    IDEMPOTENCY_TABLE,
    JOB_ATTEMPTS,
    REMINDER_KEY,
    SCHEDULE_GROUP,
    SCHEDULER_ROLE_ARN,
    create_table,
)
from tests.support.twilio_requests import (
    ACCOUNT_SID,
    MESSAGE_SID,
    REST_URL,
    SENDER,
    SMS,
    STATUS_URL,
    TOKEN,
    TWILIO_NUMBER,
    rest_request,
    signed,
    with_fields,
)
from tests.support.worker_jobs import failed, work

AN_HOUR = timedelta(hours=1)


def schedules(scheduler: Any) -> list[dict[str, Any]]:
    """Every schedule waiting in the stack's group, whole."""
    listed = scheduler.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]
    return [
        scheduler.get_schedule(GroupName=SCHEDULE_GROUP, Name=schedule["Name"])
        for schedule in listed
    ]


def fire(scheduler: Any) -> str:
    """The stack's one schedule goes off: the Scheduler deletes it (`ActionAfterCompletion:
    DELETE`), and its Input is the message it puts on the queue, which `work` delivers."""
    [schedule] = schedules(scheduler)
    scheduler.delete_schedule(GroupName=SCHEDULE_GROUP, Name=schedule["Name"])
    body: str = schedule["Target"]["Input"]
    return body


def queued(queue_url: str) -> list[str]:
    """The bodies of the jobs waiting on the queue."""
    answer = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [message["Body"] for message in answer.get("Messages", [])]


def queue_arn(url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


def dead_letter_queue() -> str:
    url: str = boto3.client("sqs").get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    return url


def due_time(schedule: dict[str, Any]) -> float:
    """When an `at(...)` schedule goes off, in seconds since the epoch."""
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    at = datetime.strptime(schedule["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)")
    return at.replace(tzinfo=UTC).timestamp()


def book_a_table(invoke, sid: str = MESSAGE_SID) -> dict[str, Any]:
    """A signed message to the webhook, whose handler sets the reminder: the answer."""
    fields = with_fields(SMS, MessageSid=sid, SmsSid=sid)
    answer: dict[str, Any] = invoke(signed(rest_request(fields=fields), REST_URL, fields))
    return answer


# A reminder set


def test_a_handlers_reminder_is_one_schedule_that_puts_its_job_on_the_queue_when_due(
    scheduler, later_queue, invoke, reminding
):
    before = time.time()
    answer = book_a_table(invoke)
    after = time.time()

    assert ">We will text you when your table is ready.</Message>" in answer["body"]
    [schedule] = schedules(scheduler)
    due = due_time(schedule)
    assert int(before) + 3600 <= due <= after + 3600
    target = schedule["Target"]
    assert {
        "group": schedule["GroupName"],
        "window": schedule["FlexibleTimeWindow"],
        "after": schedule["ActionAfterCompletion"],
        "queue": target["Arn"],
        "role": target["RoleArn"],
        "dead letters": target["DeadLetterConfig"]["Arn"],
        "retries": target["RetryPolicy"],
    } == {
        "group": SCHEDULE_GROUP,
        "window": {"Mode": "OFF"},
        "after": "DELETE",
        "queue": queue_arn(later_queue),
        "role": SCHEDULER_ROLE_ARN,
        "dead letters": queue_arn(dead_letter_queue()),
        "retries": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    assert decode(target["Input"]) == TextJob(
        to=SENDER,
        body="Your table is ready",
        media=(),
        key=REMINDER_KEY,
        account_sid=ACCOUNT_SID,
        sender=TWILIO_NUMBER,
        status_callback=STATUS_URL,
        queued_at=int(due),
        number=TWILIO_NUMBER,
    )
    assert queued(later_queue) == []  # on the queue when due, not before


def test_a_reminder_set_twice_is_one_schedule(scheduler, invoke, reminding, published):
    book_a_table(invoke)
    answer = book_a_table(invoke, sid="SM" + "2" * 32)  # another message, the same key

    assert answer["statusCode"] == 200
    assert len(schedules(scheduler)) == 1
    assert [m["name"] for m in published() if m["name"].startswith("Timers")] == ["TimersSet"]


def test_a_reminder_from_a_template_goes_when_due_by_its_sid_with_its_variables(
    scheduler, later_queue, sending_account, twilio_api
):
    template = "HX0123456789abcdef0123456789abcdef"
    to = f"whatsapp:{SENDER}"
    send_text(to, template=template, variables={"1": "Ana"}, key=REMINDER_KEY, at=AN_HOUR)

    job = fire(scheduler)
    assert decode(job).queued_at > time.time()  # a reminder: when it is due
    work(job)

    [form] = twilio_api.forms
    assert (form["To"], form["ContentSid"], form["ContentVariables"]) == (
        to,
        template,
        '{"1": "Ana"}',
    )


def test_a_reminder_set_through_a_moto_server_on_loopback_is_a_schedule(
    aws_on_loopback, sending_account, request
):
    """The same calls over real sockets, as a script makes them (with the stack's SendFrom):
    moto's server has the Scheduler too."""
    scheduler = request.getfixturevalue("scheduler")  # made there, AWS_ENDPOINT_URL set first

    send_text(SENDER, "Your table is ready", key=REMINDER_KEY, at=AN_HOUR)

    assert [schedule["Name"] for schedule in schedules(scheduler)] == [
        timers.reminder_name(SENDER, REMINDER_KEY)
    ]


# Cancelled


def test_cancelling_a_waiting_reminder_deletes_its_schedule(scheduler, invoke, reminding):
    book_a_table(invoke)

    assert cancel_text(SENDER, REMINDER_KEY) == "cancelled"
    assert schedules(scheduler) == []


def test_cancelling_it_again_says_unknown(scheduler, invoke, reminding):
    book_a_table(invoke)
    cancel_text(SENDER, REMINDER_KEY)

    assert cancel_text(SENDER, REMINDER_KEY) == "unknown"


def test_cancelling_a_reminder_never_set_says_unknown(scheduler):
    assert cancel_text(SENDER, REMINDER_KEY) == "unknown"


def test_cancelling_a_reminder_the_worker_sent_says_sent(scheduler, invoke, reminding, twilio_api):
    book_a_table(invoke)
    work(fire(scheduler))

    assert cancel_text(SENDER, REMINDER_KEY) == "sent"
    assert len(twilio_api.forms) == 1


def test_a_reminder_cancelled_after_it_went_off_and_before_the_worker_ran_sends_nothing(
    scheduler, invoke, reminding, twilio_api, logs
):
    book_a_table(invoke)
    job = fire(scheduler)  # on the queue, the worker not run yet

    assert cancel_text(SENDER, REMINDER_KEY) == "unknown"  # no schedule waited: none was found
    answer = work(job)

    assert (failed(answer), twilio_api.forms) == (0, [])
    assert "reminder not sent: it was cancelled" in logs.messages()


def test_cancelling_a_reminder_while_the_worker_pins_it_says_sent(scheduler, invoke, reminding):
    book_a_table(invoke)
    fire(scheduler)
    answers: list[str] = []

    def pin_while_cancelled() -> str:
        answers.append(cancel_text(SENDER, REMINDER_KEY))
        return "[]"

    worker.records(IDEMPOTENCY_TABLE)(f"pinned {SENDER} {REMINDER_KEY}", pin_while_cancelled, None)

    assert answers == ["sent"]


def test_cancelling_when_the_records_are_out_of_reach_is_an_error_that_says_so(
    scheduler, invoke, reminding, monkeypatch, logs
):
    book_a_table(invoke)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "NoSuchTable")

    with pytest.raises(NotScheduledError, match="IdempotencyPersistenceLayerError"):
        cancel_text(SENDER, REMINDER_KEY)
    assert "reminder not cancelled" in logs.messages()


# Bad input: a clear error in the caller, nothing scheduled


def test_a_reminder_from_a_script_of_a_stack_without_send_from_is_refused_at_once(
    scheduler, later_queue
):
    with pytest.raises(ConfigurationError, match="TwilioAccountSid and SendFrom"):
        send_text(SENDER, "Your table is ready", key=REMINDER_KEY, at=AN_HOUR)

    assert (schedules(scheduler), queued(later_queue)) == ([], [])


def test_a_handlers_reminder_from_a_script_sent_by_a_messaging_service_is_refused_at_once(
    scheduler, monkeypatch
):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("SEND_FROM", "MG" + "0" * 32)

    with pytest.raises(ConfigurationError, match="SendFrom to be a number"):
        send_text(SENDER, key=REMINDER_KEY, at=AN_HOUR, handler="remind")

    assert schedules(scheduler) == []


@pytest.mark.parametrize(
    ("arguments", "error", "says"),
    [
        ({"at": datetime(2030, 1, 1, 9)}, InvalidTimeError, "aware datetime"),
        ({"at": datetime.now(UTC) - AN_HOUR}, InvalidTimeError, "a minute to a year ahead"),
        ({"at": timedelta(seconds=30)}, InvalidTimeError, "a minute to a year ahead"),
        ({"at": timedelta(days=730)}, InvalidTimeError, "a year ahead at the latest"),
        ({"at": AN_HOUR, "handler": "nudge"}, InvalidTextError, "no body"),
        ({"handler": "nudge", "body": ""}, InvalidTextError, "give at="),
    ],
    ids=["naive", "past", "30 s ahead", "2 years ahead", "handler with a body", "handler, no at"],
)
def test_a_time_or_handler_no_reminder_can_have_is_an_error_and_nothing_is_scheduled(
    scheduler, later_queue, arguments, error, says
):
    given = {"body": "Your table is ready", **arguments}

    with pytest.raises(error, match=says):
        send_text(SENDER, key=REMINDER_KEY, **given)

    assert (schedules(scheduler), queued(later_queue)) == ([], [])


def test_a_stack_deployed_from_an_older_template_refuses_a_reminder_at_once_and_says_why(
    later_queue, invoke, reminding, logs
):
    answer = book_a_table(invoke)  # a queue, and no timer settings

    assert answer["statusCode"] == 500
    assert answer["body"] == "Internal Server Error: the webhook is not configured"
    [line] = [r for r in logs.records if r["message"] == "function misconfigured"]
    assert "SCHEDULE_GROUP" in line["reason"]
    assert "deploy this release's template.yaml" in line["reason"]
    assert queued(later_queue) == []


def test_a_stack_deployed_from_an_older_template_refuses_a_cancel_as_misconfigured(
    later_queue, published
):
    with pytest.raises(ConfigurationError, match="SCHEDULE_GROUP"):
        cancel_text(SENDER, REMINDER_KEY)

    assert "TimersFailed" not in [m["name"] for m in published()]  # no outage


# Going off: the worker gets what the schedule puts on the queue


def test_a_reminder_that_goes_off_is_sent_once_to_its_recipient(
    scheduler, invoke, reminding, twilio_api
):
    book_a_table(invoke)

    answer = work(fire(scheduler))

    assert failed(answer) == 0
    assert [(form["To"], form["From"], form["Body"]) for form in twilio_api.forms] == [
        (SENDER, TWILIO_NUMBER, "Your table is ready")
    ]


def test_a_reminder_the_scheduler_delivers_twice_is_sent_once(
    scheduler, invoke, reminding, twilio_api
):
    book_a_table(invoke)
    job = fire(scheduler)

    work(job)
    work(job)  # at least once: another message of the same job

    assert len(twilio_api.forms) == 1


@pytest.fixture
def appointments(answer_with, monkeypatch, idempotency_table) -> Router:
    """A handler that books an appointment in the conversation and sets a reminder whose text the
    timer handler `appointment_reminder` writes when it goes off; conversations in DynamoDB."""
    create_table(idempotency_table, CONVERSATION_TABLE)
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    router = Router()

    @router.fallback
    def book(message, conversation: Conversation):
        conversation.state["appointment"] = message.body
        send_text(message.from_number, key=REMINDER_KEY, at=AN_HOUR, handler="appointment_reminder")
        return f"Booked for {message.body}."

    @router.timer
    def appointment_reminder(timer: Timer, conversation: Conversation):
        return f"Your appointment at {conversation.state['appointment']} is still on."

    answer_with(router)
    return router


def test_a_timer_handlers_reminder_sends_what_it_writes_when_it_goes_off(
    scheduler, invoke, appointments, twilio_api
):
    for sid, body in [(MESSAGE_SID, "15:00"), ("SM" + "2" * 32, "16:00")]:  # moved meanwhile
        fields = with_fields(SMS, MessageSid=sid, SmsSid=sid, Body=body)
        invoke(signed(rest_request(fields=fields), REST_URL, fields))
    job = fire(scheduler)

    answer = work(job)

    assert isinstance(decode(job), TimerJob)
    assert failed(answer) == 0
    assert [(form["To"], form["From"], form["Body"]) for form in twilio_api.forms] == [
        (SENDER, TWILIO_NUMBER, "Your appointment at 16:00 is still on.")
    ]


def test_a_reminder_whose_timer_handler_was_removed_sends_nothing_says_so_and_is_done(
    scheduler, invoke, appointments, answer_with, twilio_api, logs, published
):
    invoke(signed(rest_request(), REST_URL))
    job = fire(scheduler)
    answer_with(Router())  # replies.py deployed again without it

    answer = work(job)

    assert (failed(answer), twilio_api.forms) == (0, [])
    [line] = [r for r in logs.records if r["message"].startswith("timer went off, but no")]
    assert (line["handler"], line["to"]) == ("appointment_reminder", pseudonym(SENDER, TOKEN))
    assert [m["name"] for m in published()].count("TimersUnhandled") == 1


def test_a_reminder_twilio_keeps_failing_to_take_ends_in_the_dead_letter_queue(
    scheduler, later_queue, invoke, reminding, twilio_api
):
    book_a_table(invoke)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=later_queue, MessageBody=fire(scheduler))
    twilio_api.outcomes = [(500, 20500)] * JOB_ATTEMPTS

    for _ in range(JOB_ATTEMPTS + 1):  # Lambda's poller, each time the job's retry is due
        for message in sqs.receive_message(
            QueueUrl=later_queue, AttributeNames=["ApproximateReceiveCount"]
        ).get("Messages", []):
            assert failed(delivered(message)) == 1
            sqs.change_message_visibility(  # its backoff over
                QueueUrl=later_queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

    assert len(twilio_api.forms) == JOB_ATTEMPTS
    assert queued(later_queue) == []
    assert isinstance(decode(queued(dead_letter_queue())[0]), TextJob)


def delivered(message: Mapping[str, Any]) -> dict[str, Any]:
    """The worker's answer to a message received from the queue, as Lambda hands it over."""
    event = sqs_event([message["Body"]], int(message["Attributes"]["ApproximateReceiveCount"]))
    event["Records"][0]["receiptHandle"] = message["ReceiptHandle"]
    return dict(handler.later_replies_handler(event, LambdaContext()))


def test_a_reminder_a_year_ahead_is_sent_when_it_goes_off(
    scheduler, monkeypatch, twilio_api, sending_account
):
    a_year_on = time.time() + timedelta(days=365, minutes=1).total_seconds()
    send_text(SENDER, "Happy anniversary", key=REMINDER_KEY, at=timedelta(days=365))
    job = fire(scheduler)
    monkeypatch.setattr(time, "time", lambda: a_year_on)  # when it goes off

    answer = work(job)

    assert (failed(answer), len(twilio_api.forms)) == (0, 1)


def test_the_shipped_booking_cancelled_then_booked_again_reminds_as_deployed(
    scheduler, invoke, answer_with, idempotency_table, monkeypatch, twilio_api
):
    create_table(idempotency_table, CONVERSATION_TABLE)
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    answer_with(replies.router)
    for number, body in enumerate(["BOOK", "CANCEL BOOKING", "BOOK"], start=1):
        sid = f"SM{number:032d}"
        fields = with_fields(SMS, MessageSid=sid, SmsSid=sid, Body=body)
        invoke(signed(rest_request(fields=fields), REST_URL, fields))

    answer = work(fire(scheduler))  # the second booking's: a key of its own, not spent

    assert failed(answer) == 0
    assert [form["Body"] for form in twilio_api.forms] == [
        "Reminder: your appointment is tomorrow at 15:00. CANCEL BOOKING cancels it."
    ]
