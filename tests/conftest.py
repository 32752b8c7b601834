import io
import json
from dataclasses import dataclass

import pytest
from aws_lambda_powertools.utilities import parameters
from twilio_requests import TOKEN

import handler


@dataclass
class LambdaContext:
    """The attributes Lambda's context object has and Powertools reads."""

    function_name: str = "twilio-sms-webhook-WebhookFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:twilio-sms-webhook-WebhookFunction"
    )
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """What every test starts from: the token in the environment, nothing else configured."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    for name in ("TWILIO_AUTH_TOKEN_PARAMETER", "TWILIO_WEBHOOK_URL", "REPLY_MESSAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    yield
    parameters.clear_caches()


@pytest.fixture
def invoke():
    """Run the Lambda function on an event, as Lambda does."""

    def run(event):
        return handler.lambda_handler(event, LambdaContext())

    return run


@pytest.fixture
def received(monkeypatch):
    """Replace the reply code with one that records the messages it is called with."""
    messages = []

    def record(message):
        messages.append(message)
        return "ok"

    monkeypatch.setattr(handler, "reply", record)
    return messages


class Logs:
    """The function's log output, one JSON record per line."""

    def __init__(self):
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]

    def messages(self) -> list[str]:
        return [record["message"] for record in self.records]


@pytest.fixture
def logs():
    """Capture what the function logs, at INFO (or change the level with `logger.setLevel`)."""
    captured = Logs()
    log_handler = handler.logger.registered_handler
    previous = log_handler.setStream(captured.stream)
    level = handler.logger.log_level
    yield captured
    handler.logger.setLevel(level)
    log_handler.setStream(previous)
