"""The loop guard: a sender sending the same text again and again, or a flood of texts, gets no
reply, while every message still reaches the handlers."""

import hashlib
import threading

import boto3
import pytest

import handler
from devtools.lambda_context import LambdaContext
from devtools.twilio_message import message_fields, new_message_sid
from sms_webhook import aws, local_run, loop_guard
from sms_webhook.loop_guard import HOUR, IDENTICAL_TEXTS
from tests.conftest import SENDERS_TABLE, create_table
from tests.support.twilio_requests import REST_URL, SENDER, TWILIO_NUMBER, rest_request, signed

LOOP = "Thank you for your message. We will get back to you soon."
"""What an auto-responder texts, again and again."""
PICTURE = ("https://api.twilio.com/2010-04-01/Media/ME0123", "image/jpeg")


def text_event(body: str, sid: str | None = None, media=()):
    fields = message_fields(body, sid=sid or new_message_sid(media), media=media)
    return signed(rest_request(fields=fields), REST_URL, fields)


def answered(response) -> bool:
    assert response["statusCode"] == 200, response["body"]
    return "<Message" in response["body"]


@pytest.fixture
def hour_start(received):
    """The local clock moved to one second into the next clock hour: a test's texts all fall
    within one minute of one hour, however busy the machine. The clock."""
    run = local_run.installed()  # the one `received` installed, which a test may give its router
    assert run is not None
    clock = run.clock
    clock.move_to((clock.now() // HOUR + 1) * HOUR + 1)
    return clock


@pytest.fixture
def guarded(senders_table, hour_start):
    """Deployed: the senders' table (moto) counts, on a clock at the start of an hour."""
    return hour_start


@pytest.fixture
def dynamodb_calls(monkeypatch) -> list[str]:
    """The DynamoDB operations the function calls, in order."""
    calls: list[str] = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    return calls


@pytest.mark.usefixtures("guarded")
def test_the_fourth_identical_text_in_an_hour_is_not_answered_but_reaches_the_handler(
    invoke, received
):
    answers = [answered(invoke(text_event(f"  {LOOP}\n"))) for _ in range(4)]

    assert answers == [True, True, True, False]
    assert len(received) == 4


@pytest.mark.usefixtures("guarded")
def test_different_texts_are_answered(invoke):
    assert all(answered(invoke(text_event(f"question {number}"))) for number in range(10))


@pytest.mark.usefixtures("guarded")
def test_the_eleventh_text_in_a_minute_is_not_answered(invoke):
    answers = [answered(invoke(text_event(f"question {number}"))) for number in range(11)]

    assert answers == [True] * 10 + [False]


@pytest.mark.usefixtures("guarded")
def test_a_message_delivered_again_with_its_sid_is_counted_once(invoke, received):
    event = text_event(LOOP)

    assert all(answered(invoke(event)) for _ in range(5))
    assert len(received) == 5


def test_the_next_hour_answers_again(invoke, guarded):
    for _ in range(4):
        invoke(text_event(LOOP))

    guarded.advance(hours=1)

    assert answered(invoke(text_event(LOOP)))


@pytest.mark.usefixtures("guarded")
def test_pictures_are_never_counted_nor_left_unanswered(invoke, dynamodb_calls):
    assert all(answered(invoke(text_event(LOOP, media=[PICTURE]))) for _ in range(12))
    assert dynamodb_calls == []


@pytest.mark.usefixtures("guarded")
def test_a_suppressed_reply_is_logged_with_its_rule_and_counted(invoke, logs, published):
    for _ in range(4):
        invoke(text_event(LOOP))

    [line] = [record for record in logs.records if record["message"].startswith("reply supp")]
    assert line["message"] == "reply suppressed: loop guard"
    assert (line["rule"], line["same_text"]) == (IDENTICAL_TEXTS, 4)
    assert line["from"].startswith("+1…")
    suppressed = [metric for metric in published() if metric["name"] == "RepliesSuppressed"]
    assert [metric.get("rule") for metric in suppressed] == [IDENTICAL_TEXTS]


@pytest.mark.usefixtures("guarded")
@pytest.mark.parametrize(("switch", "calls"), [("on", ["UpdateItem"]), ("off", [])])
def test_each_message_costs_one_update_item_and_none_when_the_guard_is_off(
    invoke, monkeypatch, dynamodb_calls, switch, calls
):
    monkeypatch.setenv("LOOP_GUARD", switch)

    for number in range(3):
        invoke(text_event(f"question {number}"))

    assert dynamodb_calls == calls * 3


@pytest.mark.usefixtures("aws_account", "hour_start")
def test_a_table_out_of_reach_answers_the_message_logged_and_counted(
    invoke, monkeypatch, logs, published
):
    monkeypatch.setenv("SENDERS_TABLE", "NoSuchTable")

    assert all(answered(invoke(text_event(LOOP))) for _ in range(5))
    assert logs.messages().count("loop guard unavailable: the message is answered") == 5
    names = [metric["name"] for metric in published()]
    assert names.count("LoopGuardFailures") == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOOP_GUARD", "maybe"), ("LOOP_IDENTICAL_TEXTS", "0"), ("LOOP_TEXTS_PER_MINUTE", "ten")],
)
def test_a_setting_that_makes_no_sense_is_a_configuration_error(invoke, monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    response = invoke(text_event(LOOP))

    assert response["statusCode"] == 500
    assert "not configured" in response["body"]


@pytest.mark.usefixtures("hour_start")
def test_the_limits_are_settings(invoke, monkeypatch):
    monkeypatch.setenv("LOOP_IDENTICAL_TEXTS", "1")
    monkeypatch.setenv("LOOP_TEXTS_PER_MINUTE", "2")

    assert [answered(invoke(text_event(LOOP))) for _ in range(2)] == [True, False]
    assert [answered(invoke(text_event(f"question {n}"))) for n in range(2)] == [False, False]


def test_a_burst_from_one_sender_on_threads_answers_as_many_as_a_minute_allows(
    aws_on_loopback, atomic_moto, monkeypatch, hour_start, received
):
    create_table(boto3.client("dynamodb"), SENDERS_TABLE)
    monkeypatch.setenv("SENDERS_TABLE", SENDERS_TABLE)
    events = [text_event(f"question {number}") for number in range(20)]
    responses: list[dict] = []
    start = threading.Barrier(len(events))

    def invoke(event) -> None:
        start.wait(timeout=30)
        responses.append(handler.lambda_handler(event, LambdaContext()))

    threads = [threading.Thread(target=invoke, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(map(answered, responses)) == [False] * 10 + [True] * 10
    assert len(received) == 20


# A local run: the phone's file, on its clock


def test_locally_the_counts_are_a_file_of_yours_on_the_local_clock(invoke, hour_start, tmp_path):
    for _ in range(4):
        invoke(text_event(LOOP))

    assert (tmp_path / "loops.json").stat().st_mode & 0o777 == 0o600
    hour_start.advance(hours=1)
    assert answered(invoke(text_event(LOOP)))


@pytest.mark.usefixtures("hour_start")
def test_locally_the_rule_a_suppressed_reply_broke_is_told(invoke):
    told = []
    for _ in range(4):
        invoke(text_event(LOOP))
    told.append(loop_guard.locally_broken_rule(TWILIO_NUMBER, SENDER))
    for number in range(7):
        invoke(text_event(f"question {number}"))
    told.append(loop_guard.locally_broken_rule(TWILIO_NUMBER, SENDER))

    assert told == [
        "more than 3 identical texts this clock hour",
        "more than 10 texts this clock minute",
    ]


@pytest.mark.usefixtures("hour_start")
def test_the_same_short_answer_to_different_questions_is_answered(invoke, answer_with):
    questions = iter(f"Question {number}?" for number in range(10))
    answer_with(lambda message: next(questions))

    answers = [invoke(text_event("1")) for _ in range(5)]

    assert all(answered(answer) for answer in answers)


@pytest.mark.usefixtures("guarded")
def test_a_text_is_counted_under_a_keyed_hash_never_its_own(senders_table, invoke):
    invoke(text_event("1234"))

    [item] = senders_table.scan(TableName=SENDERS_TABLE)["Items"]
    unkeyed = hashlib.sha256(b"1234").hexdigest()[:8]
    assert not any(unkeyed in name or "1234" in name for name in item)


def test_a_handler_that_runs_later_is_not_queued_for_a_suppressed_reply(
    invoke, answering_later, hour_start, monkeypatch, tmp_path
):
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    ran = []

    def reply(message):
        ran.append(message.sid)
        return "done"

    answering_later(reply)

    for _ in range(4):
        invoke(text_event(LOOP))

    assert len(ran) == 3
