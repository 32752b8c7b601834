"""Configuration and secrets, read from the environment the template (or env.json) sets.

- `TWILIO_AUTH_TOKEN`: the auth token itself. For local runs and tests only; empty when deployed.
- `TWILIO_AUTH_TOKEN_PARAMETER`: name of the SSM SecureString holding the token (deployed). During
  a rotation it holds the new and the previous token, separated by a comma or a new line: both
  are accepted.
- `TWILIO_SHARED_KEYS_PATH`: SSM path under which each SharedKey secret is a SecureString named
  by its key id (`/twilio/webhook-keys/<key id>`), for requests Twilio signs with a SharedKey.
- `TWILIO_WEBHOOK_URL`: the public URL to check signatures against, when the one the request
  arrived on differs from the one Twilio called (a proxy, CloudFront, a tunnel).
- `TWILIO_STATUS_CALLBACKS`: `off` stops asking Twilio for delivery status callbacks on replies.
- `POWERTOOLS_PARAMETERS_MAX_AGE`: seconds secrets read from SSM are reused (default 300), so a
  rotated token is picked up within minutes without an SSM call per request.

Secrets are read when a request first needs them, never at import, and a failed read is never
cached: the next request tries again.
"""

import os
import re
from functools import cache


class ConfigurationError(Exception):
    """The function cannot work as deployed: an operator has to fix its configuration."""


class SecretUnavailableError(Exception):
    """A secret could not be read right now (SSM unreachable, throttled, denied, missing)."""


def auth_tokens() -> list[str]:
    """The Twilio auth tokens to accept: the current one, and the previous one during a rotation."""
    tokens = _split_tokens(os.environ.get("TWILIO_AUTH_TOKEN", ""))
    if tokens:
        return tokens
    parameter_name = os.environ.get("TWILIO_AUTH_TOKEN_PARAMETER")
    if not parameter_name:
        raise ConfigurationError(
            "no auth token: set TWILIO_AUTH_TOKEN_PARAMETER (deployed) or TWILIO_AUTH_TOKEN (local)"
        )
    tokens = _split_tokens(_read_secrets(lambda ssm: ssm.get(parameter_name, decrypt=True)))
    if not tokens:
        raise ConfigurationError(f"SSM parameter {parameter_name} holds no token")
    return tokens


def shared_key(key_id: str) -> str | None:
    """The SharedKey secret of that key id, or None when there is no such key.

    All keys are read at once (and cached), so a request naming an unknown key costs no SSM call.
    """
    path = os.environ.get("TWILIO_SHARED_KEYS_PATH", "").rstrip("/")
    if not path:
        return None
    keys = _read_secrets(lambda ssm: ssm.get_multiple(path, decrypt=True))
    return keys.get(key_id) or None


def webhook_url_override() -> str | None:
    """The configured public URL, if any."""
    return os.environ.get("TWILIO_WEBHOOK_URL", "").strip() or None


def status_callbacks_enabled() -> bool:
    """Whether replies ask Twilio to report their delivery to `/status` (on unless `off`)."""
    return os.environ.get("TWILIO_STATUS_CALLBACKS", "on").strip().lower() != "off"


def _split_tokens(value: str) -> list[str]:
    return [token for token in re.split(r"[\s,]+", value) if token]


def _read_secrets(read):
    try:
        return read(ssm_provider())
    except Exception as error:  # any failure of boto3 or SSM means the same thing here
        raise SecretUnavailableError(f"cannot read from SSM: {error}") from error


@cache
def ssm_provider():
    """Powertools' SSM provider (with its cache), on a client that gives up in seconds.

    Twilio waits 15 s for an answer; boto3's defaults (60 s timeouts, retries) would outlast it.
    Imported here: boto3 costs a few hundred milliseconds of cold start that a function given its
    token in the environment never pays.
    """
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.config import Config

    quick = Config(
        connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 2}
    )
    return SSMProvider(boto_config=quick)
