"""Where the auth token comes from, how long it is kept, and what happens when it cannot be read."""

import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from twilio_requests import REST_URL, rest_event, signed

from sms_webhook.config import (
    ConfigurationError,
    TokenUnavailableError,
    auth_token,
    webhook_url_override,
)

PARAMETER = "/twilio/auth-token"
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ssm(monkeypatch):
    """SSM (moto) holding the token as a SecureString; the environment names the parameter."""
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", PARAMETER)
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        client.put_parameter(Name=PARAMETER, Value="token-from-ssm", Type="SecureString")
        yield client


def rotate(ssm, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=value, Type="SecureString", Overwrite=True)


def test_token_in_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")

    assert auth_token() == "from-the-environment"


def test_token_is_read_decrypted_from_the_named_ssm_parameter(ssm):
    assert auth_token() == "token-from-ssm"


def test_token_from_the_environment_wins_over_ssm(ssm, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")

    assert auth_token() == "from-the-environment"


def test_token_read_from_ssm_is_kept_between_requests(ssm):
    auth_token()
    rotate(ssm, "rotated-token")

    assert auth_token() == "token-from-ssm"


def test_rotated_token_is_read_once_the_cache_period_is_over(ssm, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "0")
    auth_token()
    rotate(ssm, "rotated-token")

    assert auth_token() == "rotated-token"


def test_missing_parameter_makes_the_token_unavailable(ssm, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", "/twilio/not-there")

    with pytest.raises(TokenUnavailableError, match="/twilio/not-there"):
        auth_token()


def test_no_token_and_no_parameter_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    with pytest.raises(ConfigurationError):
        auth_token()


def test_webhook_answers_with_the_token_from_ssm(ssm, invoke):
    event = signed(rest_event(), REST_URL, token="token-from-ssm")

    assert invoke(event)["statusCode"] == 200


def test_ssm_failure_is_503_with_its_cause_in_the_log(ssm, invoke, logs, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", "/twilio/not-there")

    response = invoke(signed(rest_event(), REST_URL, token="token-from-ssm"))

    assert response["statusCode"] == 503
    assert logs.records[-1]["message"] == "auth token unavailable"
    assert "ParameterNotFound" in logs.records[-1]["reason"]


def test_token_from_ssm_never_appears_in_logs(ssm, invoke, logs):
    invoke(signed(rest_event(), REST_URL, token="token-from-ssm"))
    invoke(signed(rest_event(), REST_URL, token="wrong"))

    assert "token-from-ssm" not in logs.text


def test_importing_the_handler_reads_no_token_and_loads_no_aws_sdk():
    code = (
        "import os, sys; os.environ['TWILIO_AUTH_TOKEN_PARAMETER'] = '/twilio/auth-token';"
        "import handler; print('boto3' in sys.modules)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.strip() == "False"


def test_configured_webhook_url_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://example.com/sms")

    assert webhook_url_override() == "https://example.com/sms"


def test_empty_webhook_url_means_none_is_configured(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "")

    assert webhook_url_override() is None
