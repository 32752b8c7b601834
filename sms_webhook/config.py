"""Configuration and secrets, read from the environment the template (or env.json) sets.

- `TWILIO_AUTH_TOKEN`: the auth token itself. For local runs and tests only; empty when deployed.
- `TWILIO_AUTH_TOKEN_PARAMETER`: name of the SSM SecureString holding the token (deployed).
- `TWILIO_WEBHOOK_URL`: the public URL to check signatures against, when the one the request
  arrived on differs from the one Twilio called (a proxy, CloudFront, a tunnel).
- `POWERTOOLS_PARAMETERS_MAX_AGE`: seconds a token read from SSM is reused (default 300), so a
  rotated token is picked up within minutes without an SSM call per request.
"""

import os


class ConfigurationError(Exception):
    """The function cannot work as deployed: an operator has to fix its configuration."""


class TokenUnavailableError(Exception):
    """The auth token could not be read right now (SSM unreachable, throttled or denied)."""


def auth_token() -> str:
    """The Twilio auth token, read when the first request needs it rather than at import."""
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if token:
        return token
    parameter_name = os.environ.get("TWILIO_AUTH_TOKEN_PARAMETER")
    if not parameter_name:
        raise ConfigurationError(
            "no auth token: set TWILIO_AUTH_TOKEN_PARAMETER (deployed) or TWILIO_AUTH_TOKEN (local)"
        )
    token = _parameter_value(parameter_name)
    if not token:
        raise ConfigurationError(f"SSM parameter {parameter_name} is empty")
    return token


def _parameter_value(name: str) -> str:
    # Imported here: boto3 and the SSM client cost a few hundred milliseconds of cold start that
    # a function given its token in the environment never needs to pay.
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_parameter(name, decrypt=True)
    except Exception as error:  # any failure of boto3 or SSM means the same thing here
        raise TokenUnavailableError(f"cannot read SSM parameter {name}: {error}") from error


def webhook_url_override() -> str | None:
    """The configured public URL, if any."""
    return os.environ.get("TWILIO_WEBHOOK_URL", "").strip() or None
