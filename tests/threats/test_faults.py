"""Threat: the AWS services behind the webhook fail. It fails closed, says why, and recovers.

Real faults where possible: an SSM endpoint on a closed loopback port (then a moto server on that
port), moto without the parameter or the table; botocore's Stubber for throttling and denial.
"""

import socket

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer
from twilio_requests import REST_URL, SSM_TOKEN, rest_event, signed

from sms_webhook import config

TOKEN_PARAMETER = "/twilio/auth-token"


@pytest.fixture
def token_in_ssm(monkeypatch):
    """Deployed configuration: the function reads its token from SSM."""
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", TOKEN_PARAMETER)


@pytest.fixture
def closed_port(monkeypatch):
    """SSM's endpoint is a loopback port where nothing listens, yet."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", f"http://127.0.0.1:{port}")
    return port


def twilio_request() -> dict:
    return signed(rest_event(), REST_URL, token=SSM_TOKEN)


def test_ssm_unreachable_is_503_with_a_log_line_saying_why(token_in_ssm, closed_port, invoke, logs):
    response = invoke(twilio_request())

    assert response["statusCode"] == 503
    assert "<Response" not in response["body"]
    [record] = logs.records
    assert record["message"] == "secret unavailable"
    assert "Could not connect to the endpoint URL" in record["reason"]


def test_ssm_unreachable_is_counted_as_a_metric(token_in_ssm, closed_port, invoke, published):
    invoke(twilio_request())

    assert [metric["name"] for metric in published()] == ["TokenFetchFailures"]


def test_when_ssm_is_back_the_next_request_is_answered(token_in_ssm, closed_port, invoke):
    invoke(twilio_request())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=closed_port, verbose=False)
    server.start()
    try:
        boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{closed_port}").put_parameter(
            Name=TOKEN_PARAMETER, Value=SSM_TOKEN, Type="SecureString"
        )

        assert invoke(twilio_request())["statusCode"] == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("error", "status"), [("ThrottlingException", 400), ("AccessDeniedException", 400)]
)
def test_throttled_or_denied_ssm_is_503_and_not_remembered(
    token_in_ssm, invoke, logs, error, status
):
    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name=TOKEN_PARAMETER, Value=SSM_TOKEN, Type="SecureString"
        )
        with Stubber(config.ssm_provider().client) as ssm:
            ssm.add_client_error("get_parameter", error, http_status_code=status)
            ssm.add_client_error("get_parameter", error, http_status_code=status)

            failed = invoke(twilio_request())

        answered = invoke(twilio_request())

    assert failed["statusCode"] == 503
    assert error in logs.records[0]["reason"]
    assert answered["statusCode"] == 200


def test_a_missing_parameter_is_503(token_in_ssm, invoke, logs):
    with mock_aws():
        response = invoke(twilio_request())

    assert response["statusCode"] == 503
    assert "ParameterNotFound" in logs.records[0]["reason"]


def test_unreachable_shared_keys_are_503(closed_port, invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", "/twilio/webhook-keys")
    event = rest_event()
    event["headers"]["X-Twilio-Webhooks-Signature-Settings"] = "key=k1,algorithm=HMAC_SHA256"
    event["headers"]["X-Twilio-Signature"] = "c2lnbmF0dXJl"

    assert invoke(event)["statusCode"] == 503


def test_without_the_token_the_reply_code_never_runs(token_in_ssm, closed_port, invoke, received):
    invoke(twilio_request())

    assert received == []


def test_an_unreachable_idempotency_table_still_answers_and_says_so(
    invoke, logs, monkeypatch, published
):
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "not-created")
    with mock_aws():
        response = invoke(signed(rest_event(), REST_URL))

    assert response["statusCode"] == 200
    assert "<Message" in response["body"]
    assert "idempotency store unavailable, answering without it" in logs.messages()
    assert "IdempotencyStoreFailures" in [metric["name"] for metric in published()]
