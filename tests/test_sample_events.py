"""The sample events in events/, run with env.json as `sam local invoke` would, stay current."""

import json
import re
from pathlib import Path

import pytest

import handler
from devtools.invoke import LAMBDA_TMP, in_own_tmp
from devtools.lambda_context import LambdaContext
from devtools.make_event import (
    SAMPLE_NAMES,
    SAMPLES,
    WORKER_SAMPLES,
    sample_event,
    signed_event,
    to_json,
)
from devtools.paths import FUNCTION_ID, WORKER_ID
from sms_webhook import local_run
from sms_webhook.jobs import encode
from sms_webhook.local_run import LocalRun
from tests.support.twilio_requests import response_header

PROJECT = Path(__file__).resolve().parent.parent
ENV_JSON = json.loads((PROJECT / "env.json").read_text())


def use_env_json(monkeypatch, function_id: str, tmp: Path) -> None:
    """The function's environment from env.json, as `--env-vars env.json` gives it, with `tmp`
    for its /tmp, as `make invoke` gives it."""
    for name, value in in_own_tmp(ENV_JSON[function_id], tmp).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def env_json(monkeypatch, tmp_path):
    use_env_json(monkeypatch, FUNCTION_ID, tmp_path)


def sample(name: str) -> dict:
    return json.loads((PROJECT / "events" / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("sms", "I'm busy questing right now!"),
        ("sms-get", "I'm busy questing right now!"),
        ("mms", "Got your 2 attachment(s): image/jpeg, video/mp4."),
        ("whatsapp", "I'm busy questing right now!"),
        ("whatsapp-location", "I'm busy questing right now!"),
    ],
)
def test_signed_samples_are_answered_with_twiml(invoke, env_json, name, answer):
    response = invoke(sample(name))

    assert response["statusCode"] == 200
    assert response_header(response, "Content-Type") == "text/xml"
    assert f">{answer}</Message>" in response["body"]


def test_sample_with_a_bad_signature_is_rejected(invoke, env_json):
    assert invoke(sample("bad-signature"))["statusCode"] == 403


def test_post_sample_has_a_base64_body():
    assert sample("sms")["isBase64Encoded"] is True


def test_mms_sample_carries_two_media_items(invoke, env_json, logs):
    invoke(sample("mms"))

    assert logs.records[-1]["media_count"] == 2


def test_whatsapp_sample_reaches_reply_code_with_the_senders_profile_name(
    invoke, env_json, received
):
    invoke(sample("whatsapp"))

    assert (received[0].channel, received[0].profile_name) == ("whatsapp", "Ada Lovelace")


def test_whatsapp_location_sample_shares_its_place(invoke, env_json, received):
    invoke(sample("whatsapp-location"))

    assert received[0].location == SAMPLES["whatsapp-location"]["location"]


@pytest.mark.parametrize("function_id", [FUNCTION_ID, WORKER_ID])
def test_env_json_token_is_marked_as_a_public_test_value(function_id):
    assert "public-test" in ENV_JSON[function_id]["TWILIO_AUTH_TOKEN"]


@pytest.mark.parametrize("function_id", [FUNCTION_ID, WORKER_ID])
def test_env_json_runs_jobs_here_and_sends_into_an_outbox_never_to_twilio(function_id):
    variables = ENV_JSON[function_id]

    assert variables["LATER_QUEUE_URL"] == ""
    assert variables["OUTBOX_FILE"].startswith(LAMBDA_TMP)  # writable in Lambda too


@pytest.mark.parametrize("function_id", [FUNCTION_ID, WORKER_ID])
@pytest.mark.parametrize("name", ["OUTBOX_FILE", "CONVERSATION_FILE"])
def test_env_json_keeps_local_files_in_a_folder_of_their_own(function_id, name):
    """Not in /tmp itself, which others may write in: the function would refuse them there."""
    assert Path(ENV_JSON[function_id][name]).parent == Path(LAMBDA_TMP, "twilio-sms-webhook")


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_are_what_make_events_writes(name, env_json):
    regenerated = to_json(sample_event(name))

    assert (PROJECT / "events" / f"{name}.json").read_text() == regenerated


def test_every_sample_is_in_events_where_your_own_events_may_sit_too():
    assert set(SAMPLE_NAMES) <= {path.stem for path in (PROJECT / "events").glob("*.json")}


def test_the_later_reply_sample_is_an_sqs_event_of_one_job():
    [record] = sample("later-reply")["Records"]

    assert record["eventSource"] == "aws:sqs"
    assert json.loads(record["body"])["job"] == "reply"


def test_the_later_reply_sample_carries_the_job_the_webhook_queues_for_its_message(
    invoke, env_json
):
    with local_run.using(LocalRun(start=lambda run: None)) as held:
        invoke(signed_event(**WORKER_SAMPLES["later-reply"]))

    [record] = sample("later-reply")["Records"]
    [job] = held.jobs
    queued = json.loads(encode(job))
    del queued["queued_at"]  # the sample's job never grows too old to run
    assert json.loads(record["body"]) == queued


def test_the_later_reply_sample_is_answered_by_the_worker_into_the_outbox(monkeypatch, tmp_path):
    use_env_json(monkeypatch, WORKER_ID, tmp_path)
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    monkeypatch.setenv("CONVERSATION_FILE", str(tmp_path / "conversations.json"))

    answer = handler.later_replies_handler(sample("later-reply"), LambdaContext())

    [sent] = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert answer == {"batchItemFailures": []}
    assert (sent["to"], sent["sender"]) == ("+14155551234", "+15005550006")
    assert sent["body"].startswith("Your report:")


def test_the_docs_list_every_sample_and_nothing_else():
    docs = (PROJECT / "docs" / "local-development.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)\.json` \|", docs, re.M)

    assert sorted(listed) == sorted(SAMPLE_NAMES)
