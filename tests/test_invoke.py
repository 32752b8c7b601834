"""`make invoke`: the built function run by Lambda's own Runtime Interface Emulator."""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from devtools.invoke import (
    Emulator,
    InvocationError,
    function_environment,
    function_for,
    in_own_tmp,
)
from devtools.make_event import SAMPLES
from devtools.paths import FUNCTION_ID, WORKER_ID, own_folder
from devtools.twilio_message import SENDER, TWILIO_NUMBER
from sms_webhook import deadlines
from tests.conftest import (
    GENEROUS_DEADLINES,
    IDEMPOTENCY_TABLE,
    SHARED_KEYS_PATH,
    TOKEN_PARAMETER,
    create_idempotency_table,
    store_secrets,
)
from tests.support.builds import (
    HOST_ARCHITECTURE,
    PROJECT,
    RUNTIME_DIR,
    WEBHOOK,
    WORKER,
    artifact,
    built_template,
)
from tests.support.twilio_requests import (
    DELIVERED,
    REST_URL,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SSM_TOKEN,
    STATUS_URL,
    rest_request,
    signed,
    signed_with_shared_key,
)

ENV_JSON = PROJECT / "env.json"
LATER_REPLY = PROJECT / "events" / "later-reply.json"
SAMPLE_ANSWERS = {
    "sms": 200,
    "sms-get": 200,
    "mms": 200,
    "bad-signature": 403,
    "whatsapp": 200,
    "whatsapp-location": 200,
}


def test_every_sample_has_its_answer_from_the_built_function_checked():
    assert set(SAMPLE_ANSWERS) == set(SAMPLES)


@pytest.fixture(scope="module")
def function_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("invoke") / "function.log"


@pytest.fixture(scope="module")
def emulator(function_logs):
    tmp = function_logs.parent / "tmp"
    with (
        function_logs.open("w") as logs,
        Emulator(
            built_template(HOST_ARCHITECTURE), ENV_JSON, RUNTIME_DIR, logs=logs, tmp=own_folder(tmp)
        ) as running,
    ):
        yield running


def test_environment_comes_from_the_template_with_env_json_overrides():
    variables, _, handler = function_environment(PROJECT / "template.yaml", ENV_JSON)

    assert handler == "handler.lambda_handler"
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == str(deadlines.WEBHOOK_TIMEOUT)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "twilio-sms-webhook"
    assert variables["TWILIO_AUTH_TOKEN"] == "public-test-token-for-local-runs-only"
    assert variables["TWILIO_AUTH_TOKEN_PARAMETER"] == ""


def test_without_env_json_the_template_values_stand(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    variables, _, _ = function_environment(PROJECT / "template.yaml", None)

    assert variables["TWILIO_AUTH_TOKEN"] == ""
    assert variables["TWILIO_AUTH_TOKEN_PARAMETER"] == TOKEN_PARAMETER


@pytest.mark.slow
@pytest.mark.parametrize(("name", "status"), SAMPLE_ANSWERS.items())
def test_each_sample_event_gets_its_answer_from_the_built_function(emulator, name, status):
    answer = json.loads(emulator.invoke((PROJECT / "events" / f"{name}.json").read_bytes()))

    assert answer["statusCode"] == status
    assert answer["headers"]["Content-Type"] == ("text/xml" if status == 200 else "text/plain")


@pytest.mark.slow
def test_the_built_function_logs_through_the_emulator(emulator, function_logs):
    emulator.invoke((PROJECT / "events" / "sms.json").read_bytes())

    assert '"message":"incoming message"' in function_logs.read_text()


@pytest.mark.slow
def test_a_dependency_missing_from_the_artifact_is_not_found_elsewhere(tmp_path):
    build = tmp_path / "build"
    shutil.copytree(built_template(HOST_ARCHITECTURE).parent, build)
    shutil.rmtree(build / "WebhookFunction" / "twilio")

    with (
        (tmp_path / "function.log").open("w") as logs,
        Emulator(
            build / "template.yaml", ENV_JSON, RUNTIME_DIR, logs=logs, tmp=tmp_path
        ) as running,
        pytest.raises(InvocationError, match="No module named 'twilio'"),
    ):
        running.invoke((PROJECT / "events" / "sms.json").read_bytes())


def test_the_emulator_waits_for_the_workers_answer_as_long_as_the_worker_may_run(tmp_path):
    with (
        (tmp_path / "function.log").open("w") as logs,
        Emulator(
            built_template(HOST_ARCHITECTURE), ENV_JSON, RUNTIME_DIR, logs, WORKER_ID, tmp=tmp_path
        ) as running,
    ):
        assert running.patience > 300  # the worker's timeout, in template.yaml


def test_an_emulator_that_is_gone_is_an_invocation_error(tmp_path):
    with (
        (tmp_path / "function.log").open("w") as logs,
        Emulator(
            built_template(HOST_ARCHITECTURE), ENV_JSON, RUNTIME_DIR, logs, tmp=tmp_path
        ) as running,
    ):
        running.close()

        with pytest.raises(InvocationError, match="no answer from the emulator"):
            running.invoke((PROJECT / "events" / "sms.json").read_bytes())


def invoke_command(
    event: str, template: Path, tmp: Path, env_vars: Path = ENV_JSON
) -> subprocess.CompletedProcess:
    """`make invoke`'s command line, run on `event` with `template` (and `env_vars`), `tmp`
    standing for the function's /tmp."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "devtools.invoke", event),
            *("--template", str(template), "--runtime-dir", str(RUNTIME_DIR)),
            *("--env-vars", str(env_vars), "--tmp", str(tmp)),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_make_invoke_prints_the_answer_on_stdout_and_logs_on_stderr(tmp_path):
    result = invoke_command("events/sms.json", built_template(HOST_ARCHITECTURE), tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["statusCode"] == 200
    assert "incoming message" in result.stderr
    assert "invocation 1 (cold)" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("event", ["events/nope.json", "events"])
def test_an_event_that_cannot_be_read_is_one_line_and_status_1(event, tmp_path):
    result = invoke_command(event, built_template(HOST_ARCHITECTURE), tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert f"cannot read the event {event}" in result.stderr


@pytest.mark.slow
def test_a_template_not_built_is_one_line_and_status_1(tmp_path):
    result = invoke_command("events/sms.json", tmp_path / "template.yaml", tmp_path)

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"no built template at {tmp_path}/template.yaml: run `make build` first"
    )


RUN_ARTIFACT = Path(__file__).parent / "support" / "run_artifact.py"


def run_artifact(
    function: str, handler: str, events: list[dict], environment: dict[str, str], folder: Path
) -> list:
    """The answers of the artifact's handler to the events, in an interpreter that has nothing
    but the artifact and what Lambda provides, and the environment given."""
    (folder / "events.json").write_text(json.dumps(events))
    code = artifact(HOST_ARCHITECTURE, function)
    result = subprocess.run(
        [sys.executable, "-S", RUN_ARTIFACT, handler, folder / "events.json"],
        cwd=code,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": f"{code}{os.pathsep}{RUNTIME_DIR}",
            # Tests never change what they inspect: no __pycache__ in the artifact.
            "PYTHONDONTWRITEBYTECODE": "1",
            "DEADLINES": json.dumps(GENEROUS_DEADLINES),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
def test_the_trimmed_artifact_serves_every_path_on_its_own(tmp_path):
    """SSM, SharedKeys, DynamoDB and status callbacks, imported from the artifact alone."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        aws = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        store_secrets(boto3.client("ssm", **aws))
        create_idempotency_table(boto3.client("dynamodb", **aws))
        status = rest_request(fields=DELIVERED, path="/status", public_path="/Prod/status")
        events = [
            signed(rest_request(), REST_URL, token=SSM_TOKEN),
            signed(rest_request(), REST_URL, token=SSM_TOKEN),
            signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET),
            signed(status, STATUS_URL, DELIVERED, token=SSM_TOKEN),
            signed(rest_request(), REST_URL, token="forged"),
        ]
        environment = {
            "TWILIO_AUTH_TOKEN_PARAMETER": TOKEN_PARAMETER,
            "TWILIO_SHARED_KEYS_PATH": SHARED_KEYS_PATH,
            "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        answers = run_artifact(WEBHOOK, "lambda_handler", events, environment, tmp_path)
    finally:
        server.stop()

    assert [answer["statusCode"] for answer in answers] == [200, 200, 200, 200, 403]
    assert answers[1]["body"] == answers[0]["body"]


def local_env_vars(folder: Path) -> Path:
    """env.json with the outbox and the conversations of both functions in `folder`."""
    variables = json.loads(ENV_JSON.read_text())
    for function_id in (FUNCTION_ID, WORKER_ID):
        variables[function_id]["OUTBOX_FILE"] = str(folder / "outbox.jsonl")
        variables[function_id]["CONVERSATION_FILE"] = str(folder / "conversations.json")
    (folder / "env.json").write_text(json.dumps(variables))
    return folder / "env.json"


def outbox(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "outbox.jsonl").read_text().splitlines()]


def is_the_later_reply(sent: dict) -> bool:
    """The text the sample's job makes: the REPORT handler's, to its sender, from the number."""
    return (sent["to"], sent["sender"]) == (SENDER, TWILIO_NUMBER) and sent["body"].startswith(
        "Your report:"
    )


@pytest.mark.parametrize(
    ("event", "function_id"),
    [
        ("events/later-reply.json", WORKER_ID),
        ("events/sms.json", FUNCTION_ID),
        ("tests/events/rest.json", FUNCTION_ID),
        ("tests/events/http_api.json", FUNCTION_ID),
        ("tests/events/function_url.json", FUNCTION_ID),
        ("tests/events/s3_put.json", None),
    ],
)
def test_the_shape_of_an_event_says_which_function_it_is_for(event, function_id):
    assert function_for(json.loads((PROJECT / event).read_text())) == function_id


@pytest.mark.parametrize("event", ['{"Records": []}', "[]", '"hello"', "{}"])
def test_json_that_is_no_lambda_event_is_for_no_function(event):
    assert function_for(json.loads(event)) is None


def test_an_sqs_event_with_a_record_from_elsewhere_is_for_no_function():
    event = json.loads(LATER_REPLY.read_text())
    event["Records"].append({**event["Records"][0], "eventSource": "aws:s3"})

    assert function_for(event) is None


@pytest.mark.slow
def test_an_event_for_no_function_is_one_line_and_status_1(tmp_path):
    result = invoke_command("tests/events/s3_put.json", built_template(HOST_ARCHITECTURE), tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(
        "tests/events/s3_put.json is neither an API Gateway request (WebhookFunction) "
        "nor an SQS event (LaterRepliesFunction)"
    )


@pytest.mark.slow
def test_an_event_that_is_not_json_is_one_line_and_status_1(tmp_path):
    (tmp_path / "notes.json").write_text("REPORT please\n")

    result = invoke_command(
        str(tmp_path / "notes.json"), built_template(HOST_ARCHITECTURE), tmp_path
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert f"{tmp_path}/notes.json is not JSON" in result.stderr


def test_the_workers_environment_comes_from_the_template_with_its_env_json_overrides():
    variables, _, handler = function_environment(PROJECT / "template.yaml", ENV_JSON, WORKER_ID)
    local = json.loads(ENV_JSON.read_text())[WORKER_ID]

    assert handler == "handler.later_replies_handler"
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "300"
    assert (variables["LATER_QUEUE_URL"], variables["OUTBOX_FILE"]) == ("", local["OUTBOX_FILE"])


@pytest.mark.parametrize("function_id", [FUNCTION_ID, WORKER_ID])
def test_a_local_run_names_no_schedule_group_role_or_queues_for_timers(function_id):
    """Empty, as `LATER_QUEUE_URL` is: without env.json, SAM would hand the function made-up
    values for them (`ScheduleGroup`, `arn:aws:lambda:...:function:SchedulerRole`)."""
    variables, _, _ = function_environment(PROJECT / "template.yaml", ENV_JSON, function_id)
    timers = ["SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "LATER_QUEUE_ARN", "DEAD_LETTER_QUEUE_ARN"]

    assert {name: variables[name] for name in timers} == dict.fromkeys(timers, "")


@pytest.mark.slow
def test_make_invoke_runs_the_worker_on_the_later_reply_sample_into_the_outbox(tmp_path):
    """env.json's outbox, under /tmp/, kept in the folder given for the function's /tmp."""
    result = invoke_command("events/later-reply.json", built_template(HOST_ARCHITECTURE), tmp_path)

    folder = tmp_path / "twilio-sms-webhook"
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    assert [is_the_later_reply(sent) for sent in outbox(folder)] == [True]
    assert f"1 text(s) written to {folder}/outbox.jsonl, not sent to Twilio:" in result.stderr
    assert f"\n  to {SENDER}:\n    Your report: " in result.stderr  # as make send shows a reply


LAMBDAS_PATHS = {"OUTBOX_FILE": "/tmp/box/outbox.jsonl", "CONVERSATION_FILE": "", "A": "/tmpfs"}  # noqa: S108
"""Values the function is given: paths in Lambda's /tmp/, or not."""


def test_make_invoke_gives_the_function_a_tmp_of_its_own(tmp_path):
    assert in_own_tmp(LAMBDAS_PATHS, tmp_path) == {
        "OUTBOX_FILE": f"{tmp_path}/box/outbox.jsonl",
        "CONVERSATION_FILE": "",
        "A": LAMBDAS_PATHS["A"],
        "TMPDIR": str(tmp_path),
    }


@pytest.mark.slow
def test_the_workers_artifact_alone_sends_the_later_reply_into_the_outbox_and_nowhere_else(
    tmp_path,
):
    """Every way out (Twilio's API through requests, AWS through boto3) leads to a socket on
    loopback, which nobody may have called."""
    environment = json.loads(local_env_vars(tmp_path).read_text())[WORKER_ID]
    with socket.create_server(("127.0.0.1", 0)) as way_out:
        address = f"http://127.0.0.1:{way_out.getsockname()[1]}"
        proxies = {"HTTPS_PROXY": address, "HTTP_PROXY": address, "AWS_ENDPOINT_URL": address}
        event = json.loads(LATER_REPLY.read_text())
        answers = run_artifact(
            WORKER, "later_replies_handler", [event], {**environment, **proxies}, tmp_path
        )
        called = select.select([way_out], [], [], 0)[0]

    assert answers == [{"batchItemFailures": []}]
    assert [is_the_later_reply(sent) for sent in outbox(tmp_path)] == [True]
    assert called == []
