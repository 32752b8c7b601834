"""Where the secrets come from and how long they are kept (faults: tests/threats/test_faults.py);
the conversations' settings, and what a bad one gets."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sms_webhook.config import (
    ConfigurationError,
    SecretUnavailableError,
    auth_tokens,
    conversation_settings,
    shared_key,
    smart_encoding_enabled,
    webhook_url_override,
)
from tests.conftest import SHARED_KEYS_PATH, TOKEN_PARAMETER, put_secret
from tests.support.twilio_requests import (
    PREVIOUS_TOKEN,
    REST_URL,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SSM_TOKEN,
    TOKEN,
    rest_request,
    signed,
)

PROJECT = Path(__file__).resolve().parent.parent


def cold_start_state(**environment: str) -> dict[str, bool]:
    """What importing the handler leaves in a new interpreter, with these environment variables
    more: modules loaded and things made, as at a cold start
    (`tests/support/cold_start_state.py`)."""
    printed = subprocess.run(
        [sys.executable, str(PROJECT / "tests" / "support" / "cold_start_state.py")],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **environment},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(printed)


def test_token_in_the_environment_is_used():
    assert auth_tokens() == [TOKEN]


def test_token_is_read_decrypted_from_the_named_ssm_parameter(ssm):
    assert auth_tokens() == [SSM_TOKEN]


def test_token_from_the_environment_wins_over_ssm(ssm, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)

    assert auth_tokens() == [TOKEN]


@pytest.mark.parametrize("separator", [",", "\n", " , "])
def test_a_parameter_can_hold_the_new_and_the_previous_token(ssm, separator):
    put_secret(ssm, TOKEN_PARAMETER, f"{SSM_TOKEN}{separator}{PREVIOUS_TOKEN}")

    assert auth_tokens() == [SSM_TOKEN, PREVIOUS_TOKEN]


def test_token_read_from_ssm_is_kept_between_requests(ssm):
    auth_tokens()
    put_secret(ssm, TOKEN_PARAMETER, "rotated-token")

    assert auth_tokens() == [SSM_TOKEN]


def test_rotated_token_is_read_once_the_cache_period_is_over(ssm, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "0")
    auth_tokens()
    put_secret(ssm, TOKEN_PARAMETER, "rotated-token")

    assert auth_tokens() == ["rotated-token"]


def test_missing_parameter_makes_the_token_unavailable(ssm, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", "/twilio/not-there")

    with pytest.raises(SecretUnavailableError, match="/twilio/not-there"):
        auth_tokens()


def test_a_parameter_with_no_token_in_it_is_a_configuration_error(ssm):
    put_secret(ssm, TOKEN_PARAMETER, " , ")

    with pytest.raises(ConfigurationError, match="holds no token"):
        auth_tokens()


def test_no_token_and_no_parameter_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    with pytest.raises(ConfigurationError):
        auth_tokens()


def test_shared_key_is_read_by_its_id_under_the_keys_path(ssm):
    assert shared_key(SHARED_KEY_ID) == SHARED_KEY_SECRET


def test_unknown_shared_key_id_is_none(ssm):
    assert shared_key("webhooks_sharedkey_unknown") is None


def test_shared_keys_are_read_together_once_for_any_number_of_ids(ssm):
    shared_key("webhooks_sharedkey_unknown")
    put_secret(ssm, f"{SHARED_KEYS_PATH}/webhooks_sharedkey_new", "added-later")

    assert shared_key("webhooks_sharedkey_new") is None


def test_without_a_keys_path_there_are_no_shared_keys(ssm, monkeypatch):
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", "")

    assert shared_key(SHARED_KEY_ID) is None


def test_importing_the_handler_reads_no_secret_and_loads_no_aws_sdk():
    state = cold_start_state(TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER)

    assert (state["boto3 loaded"], state["secrets read"]) == (False, False)


def test_configured_webhook_url_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://example.com/sms")

    assert webhook_url_override() == "https://example.com/sms"


@pytest.mark.parametrize(("value", "on"), [("on", True), (" ON ", True), ("off", False)])
def test_smart_encoding_is_on_only_when_set_on(monkeypatch, value, on):
    assert smart_encoding_enabled() is False
    monkeypatch.setenv("SMART_ENCODING", value)

    assert smart_encoding_enabled() is on


def test_empty_webhook_url_means_none_is_configured(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "")

    assert webhook_url_override() is None


# Conversations


def test_a_conversation_is_kept_24_hours_with_10_messages_of_history_by_default():
    settings = conversation_settings()

    assert (settings.ttl_seconds, settings.history_length) == (24 * 60 * 60, 10)


def test_the_conversation_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONVERSATION_TTL_HOURS", "0.5")
    monkeypatch.setenv("CONVERSATION_HISTORY", "0")

    settings = conversation_settings()

    assert (settings.ttl_seconds, settings.history_length) == (30 * 60, 0)


BAD_CONVERSATION_SETTINGS = [
    ("CONVERSATION_TTL_HOURS", "inf"),
    ("CONVERSATION_TTL_HOURS", "nan"),
    ("CONVERSATION_TTL_HOURS", "0"),
    ("CONVERSATION_TTL_HOURS", "-1"),
    ("CONVERSATION_TTL_HOURS", "0.0001"),
    ("CONVERSATION_TTL_HOURS", "8761"),
    ("CONVERSATION_TTL_HOURS", "abc"),
    ("CONVERSATION_HISTORY", "-1"),
    ("CONVERSATION_HISTORY", "2.5"),
    ("CONVERSATION_HISTORY", "abc"),
]
"""Values a conversation setting must not take: not a number, not finite, a TTL under a second,
a negative or fractional number of messages."""


@pytest.mark.parametrize(("name", "value"), BAD_CONVERSATION_SETTINGS)
def test_a_bad_conversation_setting_is_a_configuration_error_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(
        ConfigurationError, match=rf"^{name} must be .*, not {re.escape(repr(value))}$"
    ):
        conversation_settings()


@pytest.mark.parametrize(("name", "value"), BAD_CONVERSATION_SETTINGS)
def test_a_bad_conversation_setting_is_answered_as_a_misconfigured_webhook(
    conversing, invoke, monkeypatch, name, value
):
    monkeypatch.setenv(name, value)

    response = invoke(signed(rest_request(), REST_URL))

    assert (response["statusCode"], response["body"]) == (
        500,
        "Internal Server Error: the webhook is not configured",
    )


def test_a_bad_conversation_setting_is_logged_naming_it(conversing, invoke, logs, monkeypatch):
    monkeypatch.setenv("CONVERSATION_TTL_HOURS", "inf")

    invoke(signed(rest_request(), REST_URL))

    [error] = [record for record in logs.records if record["level"] == "ERROR"]
    assert error["message"] == "function misconfigured"
    assert error["reason"].startswith("CONVERSATION_TTL_HOURS must be a number of hours from")
