"""`make invoke`: the built function run by Lambda's own Runtime Interface Emulator."""

import json
import shutil
import subprocess
import sys

import pytest
from builds import HOST_ARCHITECTURE, PROJECT, RUNTIME_DIR, built_template

from devtools.invoke import Emulator, InvocationError, function_environment

ENV_JSON = PROJECT / "env.json"
SAMPLE_ANSWERS = {"sms": 200, "sms-get": 200, "mms": 200, "bad-signature": 403}


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
    assert variables["TWILIO_AUTH_TOKEN_PARAMETER"] == "/twilio/auth-token"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "status"), SAMPLE_ANSWERS.items())
def test_each_sample_event_gets_its_answer_from_the_built_function(emulator, name, status):
    answer = json.loads(emulator.invoke((PROJECT / "events" / f"{name}.json").read_bytes()))

    assert answer["statusCode"] == status
    assert answer["multiValueHeaders"]["Content-Type"] == [
        "text/xml" if status == 200 else "text/plain"
    ]


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


@pytest.mark.slow
def test_make_invoke_prints_the_answer_on_stdout_and_logs_on_stderr():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.invoke",
            str(PROJECT / "events" / "sms.json"),
            "--template",
            str(built_template(HOST_ARCHITECTURE)),
            "--runtime-dir",
            str(RUNTIME_DIR),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert json.loads(result.stdout)["statusCode"] == 200
    assert "incoming message" in result.stderr
    assert "invocation 1 (cold)" in result.stderr
