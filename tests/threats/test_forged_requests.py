"""Threat: requests that did not come from Twilio. Only a valid signature gets an answer.

The basic rejections (no, empty or wrong signature, tampered body, wrong URL) are specified in
test_handler.py; here: token rotation and SharedKey signatures.
"""

import pytest

from tests.conftest import TOKEN_PARAMETER, put_secret
from tests.support.twilio_requests import (
    PREVIOUS_TOKEN,
    REST_URL,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SSM_TOKEN,
    rest_request,
    signed,
    signed_with_shared_key,
    with_header,
)


@pytest.fixture(autouse=True)
def secrets_read_at_every_request(monkeypatch):
    """A rotation takes effect at the next request: nothing read from SSM is kept."""
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "0")


# Token rotation (Twilio's secondary token flow)


def test_during_a_rotation_a_signature_with_the_new_token_is_accepted(ssm, invoke):
    put_secret(ssm, TOKEN_PARAMETER, f"{SSM_TOKEN},{PREVIOUS_TOKEN}")

    assert invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))["statusCode"] == 200


def test_during_a_rotation_a_signature_with_the_previous_token_is_accepted(ssm, invoke):
    put_secret(ssm, TOKEN_PARAMETER, f"{SSM_TOKEN},{PREVIOUS_TOKEN}")

    assert invoke(signed(rest_request(), REST_URL, token=PREVIOUS_TOKEN))["statusCode"] == 200


def test_after_a_rotation_the_previous_token_is_rejected(ssm, invoke):
    put_secret(ssm, TOKEN_PARAMETER, f"{SSM_TOKEN},{PREVIOUS_TOKEN}")
    invoke(signed(rest_request(), REST_URL, token=PREVIOUS_TOKEN))
    put_secret(ssm, TOKEN_PARAMETER, SSM_TOKEN)

    assert invoke(signed(rest_request(), REST_URL, token=PREVIOUS_TOKEN))["statusCode"] == 403


# SharedKey signatures (X-Twilio-Webhooks-Signature-Settings)


def test_a_shared_key_signature_is_accepted(ssm, invoke):
    event = signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET)

    assert invoke(event)["statusCode"] == 200


def test_a_shared_key_signature_with_another_secret_is_rejected(ssm, invoke):
    event = signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, "not-the-secret")

    assert invoke(event)["statusCode"] == 403


def test_an_unknown_shared_key_id_is_rejected(ssm, invoke, logs):
    event = signed_with_shared_key(rest_request(), REST_URL, "webhooks_sharedkey_x", "a-secret")

    assert invoke(event)["statusCode"] == 403
    assert logs.records[-1]["reason"] == "unknown SharedKey id"


def test_an_unsupported_algorithm_is_rejected(ssm, invoke, logs):
    event = signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET)
    event = with_header(
        event, "X-Twilio-Webhooks-Signature-Settings", f"key={SHARED_KEY_ID},algorithm=HMAC_MD5"
    )

    assert invoke(event)["statusCode"] == 403
    assert logs.records[-1]["reason"] == "unsupported signature algorithm"


def test_an_auth_token_signature_does_not_pass_for_a_shared_key_one(ssm, invoke):
    event = signed(rest_request(), REST_URL, token=SSM_TOKEN)
    event = with_header(
        event,
        "X-Twilio-Webhooks-Signature-Settings",
        f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256",
    )

    assert invoke(event)["statusCode"] == 403


def test_a_shared_key_signature_does_not_pass_without_the_settings_header(ssm, invoke):
    event = signed(rest_request(), REST_URL, token=SHARED_KEY_SECRET, algorithm="HMAC_SHA256")

    assert invoke(event)["statusCode"] == 403


def test_without_a_keys_path_shared_key_requests_are_rejected(ssm, invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", "")
    event = signed_with_shared_key(rest_request(), REST_URL, SHARED_KEY_ID, SHARED_KEY_SECRET)

    assert invoke(event)["statusCode"] == 403
