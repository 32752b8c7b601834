"""`make invoke`: the built function run by Lambda's own Runtime Interface Emulator."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from builds import HOST_ARCHITECTURE, PROJECT, RUNTIME_DIR, artifact, built_template
from conftest import (
    IDEMPOTENCY_TABLE,
    SHARED_KEYS_PATH,
    TOKEN_PARAMETER,
    create_idempotency_table,
    store_secrets,
)
from moto.server import ThreadedMotoServer
from twilio_requests import (
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

from devtools.invoke import Emulator, InvocationError, function_environment
from devtools.make_event import SAMPLES

ENV_JSON = PROJECT / "env.json"
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
    with (
        function_logs.open("w") as logs,
        Emulator(built_template(HOST_ARCHITECTURE), ENV_JSON, RUNTIME_DIR, logs=logs) as running,
    ):
        yield running


def test_environment_comes_from_the_template_with_env_json_overrides():
    variables, _, handler = function_environment(PROJECT / "template.yaml", ENV_JSON)

    assert handler == "handler.lambda_handler"
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "10"
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
        Emulator(build / "template.yaml", ENV_JSON, RUNTIME_DIR, logs=logs) as running,
        pytest.raises(InvocationError, match="No module named 'twilio'"),
    ):
        running.invoke((PROJECT / "events" / "sms.json").read_bytes())


def invoke_command(event: str, template: Path) -> subprocess.CompletedProcess:
    """`make invoke`'s command line, run on `event` with `template`."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "devtools.invoke", event),
            *("--template", str(template), "--runtime-dir", str(RUNTIME_DIR)),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_make_invoke_prints_the_answer_on_stdout_and_logs_on_stderr():
    result = invoke_command("events/sms.json", built_template(HOST_ARCHITECTURE))

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["statusCode"] == 200
    assert "incoming message" in result.stderr
    assert "invocation 1 (cold)" in result.stderr


@pytest.mark.parametrize("event", ["events/nope.json", "events"])
def test_an_event_that_cannot_be_read_is_one_line_and_status_1(event):
    result = invoke_command(event, built_template(HOST_ARCHITECTURE))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert f"cannot read the event {event}" in result.stderr


def test_a_template_not_built_is_one_line_and_status_1(tmp_path):
    result = invoke_command("events/sms.json", tmp_path / "template.yaml")

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"no built template at {tmp_path}/template.yaml: run `make build` first"
    )


RUN_ARTIFACT = Path(__file__).parent / "run_artifact.py"


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
        (tmp_path / "events.json").write_text(json.dumps(events))
        code = artifact(HOST_ARCHITECTURE)
        environment = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": f"{code}{os.pathsep}{RUNTIME_DIR}",
            # Tests never change what they inspect: no __pycache__ in the artifact.
            "PYTHONDONTWRITEBYTECODE": "1",
            "TWILIO_AUTH_TOKEN_PARAMETER": TOKEN_PARAMETER,
            "TWILIO_SHARED_KEYS_PATH": SHARED_KEYS_PATH,
            "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        result = subprocess.run(
            [sys.executable, "-S", RUN_ARTIFACT, tmp_path / "events.json"],
            cwd=code,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()

    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.splitlines()[-1])
    assert [status for status, _ in answers] == [200, 200, 200, 200, 403]
    assert answers[1][1] == answers[0][1]
