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
- `IDEMPOTENCY_TABLE`: the DynamoDB table of answered messages; empty turns deduplication off.
- `POWERTOOLS_PARAMETERS_MAX_AGE`: seconds secrets read from SSM are reused (default 300), so a
  rotated token is picked up within minutes without an SSM call per request.

Secrets are read when a request first needs them, never at import. When SSM is out of reach for a
while (an outage, a timeout, throttling during a burst of cold starts), secrets used successfully
in the last `STALE_SECRETS_MAX_AGE` seconds keep being used, with a warning and a
`StaleSecretsUsed` metric: Twilio retries no answer, so a 503 loses the message. SSM is then tried
again after `SSM_RETRY_INTERVAL` seconds rather than on every request. When SSM answers that the
secret is gone or not ours to read (a deleted parameter, a revoked permission), nothing earlier is
used: that is how an owner stops a leaked token at once. A container that has never read a secret
fails closed.
"""

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple, TypeVar

from sms_webhook import aws
from sms_webhook.telemetry import count, logger

STALE_SECRETS_MAX_AGE = 60 * 60
SSM_RETRY_INTERVAL = 30


class ConfigurationError(Exception):
    """The function cannot work as deployed: an operator has to fix its configuration."""


class SecretUnavailableError(Exception):
    """A secret could not be read right now (SSM unreachable, throttled, denied, missing)."""


def token_from_ssm() -> bool:
    """Whether the token is read from SSM (deployed) rather than given in the environment."""
    return bool(os.environ.get("TWILIO_AUTH_TOKEN_PARAMETER")) and not _split_tokens(
        os.environ.get("TWILIO_AUTH_TOKEN", "")
    )


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
    value = _read_secrets("token", lambda ssm: ssm.get(parameter_name, decrypt=True))
    tokens = _split_tokens(value)
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
    keys = _read_secrets("shared keys", lambda ssm: ssm.get_multiple(path, decrypt=True))
    return keys.get(key_id) or None


def api_key() -> tuple[str, str] | None:
    """The API key (its `SK…` sid and secret) the worker sends with, when
    `TWILIO_API_KEY_PARAMETER` names an SSM SecureString holding `SK…:secret`; else None, and
    the worker sends with the auth token."""
    parameter_name = os.environ.get("TWILIO_API_KEY_PARAMETER", "").strip()
    if not parameter_name:
        return None
    value = _read_secrets("API key", lambda ssm: ssm.get(parameter_name, decrypt=True))
    key_sid, colon, secret = str(value).strip().partition(":")
    if not (colon and key_sid.startswith("SK") and secret):
        raise ConfigurationError(f"SSM parameter {parameter_name} must hold SK…:secret")
    return key_sid, secret


def webhook_url_override() -> str | None:
    """The configured public URL, if any."""
    return os.environ.get("TWILIO_WEBHOOK_URL", "").strip() or None


def later_queue_url() -> str | None:
    """The queue of later replies and texts sent first (`LATER_QUEUE_URL`); None in a local run,
    whose jobs run on its own machine."""
    return os.environ.get("LATER_QUEUE_URL", "").strip() or None


def later_queue() -> str | None:
    """The queue of later replies, checked: `ConfigurationError` when the worker would send
    nothing (no deduplication table), said when a job is queued rather than when it runs."""
    queue = later_queue_url()
    if queue and not idempotency_table():
        raise ConfigurationError(
            "later replies need the deduplication table: deploy with Idempotency=Enabled"
        )
    return queue


def outbox_file() -> str | None:
    """Where a local run writes the texts it would send (`OUTBOX_FILE`), never sending them to
    Twilio; None when deployed."""
    return os.environ.get("OUTBOX_FILE", "").strip() or None


def send_from() -> str | None:
    """Who texts sent first go out from (`SEND_FROM`: a number, a channel address or a Messaging
    Service's sid); None: from the number of the message being answered."""
    return os.environ.get("SEND_FROM", "").strip() or None


def sending_account_sid() -> str | None:
    """The account texts sent first go out from (`TWILIO_ACCOUNT_SID`); None: that of the message
    being answered."""
    return os.environ.get("TWILIO_ACCOUNT_SID", "").strip() or None


def status_callback_setting() -> str | None:
    """Where Twilio reports the delivery of a text a script sends (`STATUS_CALLBACK_URL`); a
    handler's texts are reported where its reply's are."""
    return os.environ.get("STATUS_CALLBACK_URL", "").strip() or None


def idempotency_table() -> str | None:
    """The DynamoDB table of answered messages (`IDEMPOTENCY_TABLE`); None turns deduplication
    off."""
    return os.environ.get("IDEMPOTENCY_TABLE", "").strip() or None


class ConversationSettings(NamedTuple):
    table: str
    """`CONVERSATION_TABLE`: the DynamoDB table of conversations (deployed)."""
    file: str
    """`CONVERSATION_FILE`: a JSON file of conversations (local runs), when there is no table."""
    ttl_seconds: int
    """`CONVERSATION_TTL_HOURS` (default 24): a conversation is forgotten this long after its
    last write."""
    history_length: int
    """`CONVERSATION_HISTORY` (default 10): messages in and out kept in a conversation."""


def conversation_settings() -> ConversationSettings:
    """Where conversations are kept (neither a table nor a file: nowhere, they are off)."""
    ttl_hours = _setting(
        "CONVERSATION_TTL_HOURS",
        "24",
        float,
        lambda hours: 1 <= hours * 3600 <= _A_YEAR_OF_SECONDS,
        "a number of hours from one second to a year, 8760 (24, 0.5...)",
    )
    history_length = _setting(
        "CONVERSATION_HISTORY",
        "10",
        int,
        lambda length: length >= 0,
        "a whole number of messages, 0 or more",
    )
    return ConversationSettings(
        table=os.environ.get("CONVERSATION_TABLE", "").strip(),
        file=os.environ.get("CONVERSATION_FILE", "").strip(),
        ttl_seconds=round(ttl_hours * 3600),
        history_length=history_length,
    )


def conversations_kept() -> bool:
    """Whether conversations are kept somewhere: a table or a file."""
    return bool(
        os.environ.get("CONVERSATION_TABLE", "").strip()
        or os.environ.get("CONVERSATION_FILE", "").strip()
    )


def senders_table() -> str | None:
    """The DynamoDB table of what is known per sender, consent first (`SENDERS_TABLE`,
    deployed); None in a local run."""
    return os.environ.get("SENDERS_TABLE", "").strip() or None


def senders_kept_locally() -> bool:
    """Whether what is known per sender is in a local run's file: then Twilio's own answers to
    STOP and START, and its refusal to text an opted-out number, are played here (`consent`).
    Here, not in `senders`, so that a deployed message asks without loading that module."""
    return senders_table() is None and senders_file() is not None


def senders_file() -> str | None:
    """Where a local run keeps what is known per sender (`SENDERS_FILE`; by default
    `senders.json` beside `CONVERSATION_FILE`); None when there is no file for it either."""
    named = os.environ.get("SENDERS_FILE", "").strip()
    conversations = os.environ.get("CONVERSATION_FILE", "").strip()
    if named or not conversations:
        return named or None
    return os.path.join(os.path.dirname(conversations), "senders.json")


class LoopGuardSettings(NamedTuple):
    identical_texts: int
    """`LOOP_IDENTICAL_TEXTS` (default 3): identical texts from one sender in a clock hour that
    are answered; the next ones are not."""
    texts_per_minute: int
    """`LOOP_TEXTS_PER_MINUTE` (default 10): messages from one sender in a clock minute that are
    answered; the next ones are not."""


def loop_guard_settings() -> LoopGuardSettings | None:
    """The loop guard's limits (`sms_webhook/loop_guard.py`); None when `LOOP_GUARD` is `off`
    (it is `on` by default)."""
    switch = os.environ.get("LOOP_GUARD", "").strip().lower() or "on"
    if switch not in ("on", "off"):
        raise ConfigurationError(f"LOOP_GUARD must be on or off, not {switch!r}")
    if switch == "off":
        return None
    return LoopGuardSettings(
        identical_texts=_setting(
            "LOOP_IDENTICAL_TEXTS", "3", int, lambda texts: texts >= 1, "a whole number, 1 or more"
        ),
        texts_per_minute=_setting(
            "LOOP_TEXTS_PER_MINUTE",
            "10",
            int,
            lambda texts: texts >= 1,
            "a whole number, 1 or more",
        ),
    )


def loops_file() -> str | None:
    """Where a local run counts each sender's recent messages for the loop guard (`LOOPS_FILE`;
    by default `loops.json` beside the senders' file); None when there is no file for it."""
    named = os.environ.get("LOOPS_FILE", "").strip()
    senders = senders_file()
    if named or not senders:
        return named or None
    return os.path.join(os.path.dirname(senders), "loops.json")


_A_YEAR_OF_SECONDS = 8760 * 3600
"""The longest TTL, as the template's `ConversationTtlHours` allows: much longer and the expiry
time would pass what a DynamoDB number holds."""

Number = TypeVar("Number", int, float)


def _setting(
    name: str,
    default: str,
    parse: Callable[[str], Number],
    acceptable: Callable[[Number], bool],
    requirement: str,
) -> Number:
    """The environment variable `name` (`default` when unset or empty), or a configuration error
    saying what it must be: a value out of range would otherwise be taken silently or fail later,
    on every message, as an unexpected error."""
    text = os.environ.get(name, "").strip() or default
    try:
        value = parse(text)
        if acceptable(value):
            return value
    except ValueError:
        pass
    raise ConfigurationError(f"{name} must be {requirement}, not {text!r}")


def status_callbacks_enabled() -> bool:
    """Whether replies ask Twilio to report their delivery to `/status` (on unless `off`)."""
    return os.environ.get("TWILIO_STATUS_CALLBACKS", "on").strip().lower() != "off"


def smart_encoding_enabled() -> bool:
    """Whether texts to phone numbers have look-alike characters replaced so that they stay GSM-7
    (`SMART_ENCODING`: `on`; off by default; sms_webhook/smart_encoding.py)."""
    return os.environ.get("SMART_ENCODING", "").strip().lower() == "on"


def _split_tokens(value: str) -> list[str]:
    return [token for token in re.split(r"[\s,]+", value) if token]


@dataclass
class _LastRead:
    value: Any
    at: float
    retry_at: float = 0.0


_last_reads: dict[str, _LastRead] = {}


def _read_secrets(what: str, read: Callable[[Any], Any]) -> Any:
    """`read(ssm_provider())`, or, while SSM fails, what it last gave (see the module's doc)."""
    now = time.monotonic()
    last = _last_reads.get(what)
    usable = last is not None and now - last.at <= STALE_SECRETS_MAX_AGE
    if last is not None and usable and now < last.retry_at:
        return _stale(what, last, "SSM failed moments ago")
    try:
        value = read(ssm_provider())
    except Exception as error:  # any failure of boto3 or SSM: the secret is unavailable
        reason = f"cannot read from SSM: {error}"
        if last is None or not usable or not _out_of_reach(error):
            raise SecretUnavailableError(reason) from error
        last.retry_at = now + SSM_RETRY_INTERVAL
        return _stale(what, last, reason)
    _last_reads[what] = _LastRead(value, now)
    return value


_PASSING_ERROR_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)


def _out_of_reach(error: BaseException) -> bool:
    """Whether SSM failed to answer (unreachable, too slow, busy), rather than answered that the
    secret is not there or not ours: only the first is worth riding out on what was read."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionError | HTTPClientError | aws.OutOfTimeError):
            return True
        if isinstance(cause, ClientError):
            code = cause.response.get("Error", {}).get("Code", "")
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return code in _PASSING_ERROR_CODES or status >= HTTPStatus.INTERNAL_SERVER_ERROR
        cause = cause.__cause__ or cause.__context__
    return False


def _stale(what: str, last: _LastRead, reason: str) -> Any:
    age = round(time.monotonic() - last.at)
    logger.warning(
        "SSM unavailable: using secrets read earlier",
        extra={"secrets": what, "age_seconds": age, "reason": reason},
    )
    count("StaleSecretsUsed")
    return last.value


@cache
def ssm_provider() -> Any:
    """Powertools' SSM provider (with its cache), on a client that gives up in time (`aws`).

    Imported here: boto3 costs a few hundred milliseconds of cold start that a function given its
    token in the environment never pays.
    """
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=aws.client("ssm"))
