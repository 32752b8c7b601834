"""SnapStart: what is made before the snapshot, so that every restored instance starts with it."""

from sms_webhook.snapstart import is_snapshot_init
from tests.conftest import TOKEN_PARAMETER
from tests.test_config import cold_start_state

SNAPSHOT = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start", "AWS_DEFAULT_REGION": "us-east-1"}


def test_before_the_snapshot_the_aws_clients_are_made_without_reading_a_secret(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    state = cold_start_state(
        **SNAPSHOT,
        TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER,
        IDEMPOTENCY_TABLE="table",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
    )

    assert state == {
        "boto3 loaded": True,
        "SSM provider made": True,
        "idempotency runner made": True,
        "secrets read": False,
    }


def test_with_the_token_in_the_environment_no_ssm_client_is_made():
    state = cold_start_state(**SNAPSHOT, TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER)

    assert (state["SSM provider made"], state["idempotency runner made"]) == (False, False)


def test_an_ordinary_cold_start_is_not_a_snapshot(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)

    assert not is_snapshot_init()
