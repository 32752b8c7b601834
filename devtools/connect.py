"""`make connect NUMBER=+1...`: point a Twilio number's SMS webhook at the deployed stack.

    python -m devtools.connect +15551234567 [--dry-run] [--stack-name NAME] [--region REGION]

Reads the stack's `WebhookUrl` output from CloudFormation (stack name and region from
samconfig.toml unless given), then sets the number's "A message comes in" webhook to that URL with
HTTP POST, through twilio's REST client. Credentials: `TWILIO_ACCOUNT_SID`, and the auth token from
`TWILIO_AUTH_TOKEN` or else the SSM parameter the deployed function reads. Running it again changes
nothing; `--dry-run` shows the change without making it.
"""

import argparse
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict, cast

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from devtools.commands import as_started
from devtools.paths import PROJECT

if TYPE_CHECKING:  # the types of boto3's CloudFormation client, which boto3-stubs has
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import StackTypeDef

WEBHOOK_METHOD = "POST"
NO_CREDENTIALS = (
    "no AWS credentials: run `aws configure` (or `aws sso login`), or set AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def no_region() -> str:
    """What to do without a region: REGION= with make, which takes no --region."""
    give = as_started("REGION=us-east-1", "--region us-east-1")
    return (
        f"no AWS region: give one with {give}, or set AWS_REGION, or run "
        "`aws configure set region us-east-1`"
    )


class ConnectError(Exception):
    """Something the user has to fix, said in one line."""


class SamconfigDefaults(TypedDict, total=False):
    """What the tools take from samconfig.toml, as `sam deploy` would."""

    stack_name: str
    region: str
    parameter_overrides: str | list[str]


class _StoredValue(TypedDict):
    Value: str


class ParameterAnswer(TypedDict):
    """SSM's answer to GetParameter, as far as it is read here."""

    Parameter: _StoredValue


class ParameterStore(Protocol):
    """What the tools call of an SSM client (boto3's, whose types are not installed here)."""

    def get_parameter(self, *, Name: str, WithDecryption: bool = ...) -> ParameterAnswer: ...


@dataclass(frozen=True)
class Stack:
    webhook_url: str
    token_parameter: str | None


def samconfig_defaults(path: Path = PROJECT / "samconfig.toml") -> SamconfigDefaults:
    """Stack name, region and parameter overrides as `sam deploy` would take them from
    samconfig.toml."""
    if not path.exists():
        return {}
    default = tomllib.loads(path.read_text()).get("default", {})
    found = {}
    for section in ("global", "deploy"):
        found.update(default.get(section, {}).get("parameters", {}))
    wanted = ("stack_name", "region", "parameter_overrides")
    # As sam reads them: a mistyped value is the user's to fix, and sam's to tell of.
    return cast(SamconfigDefaults, {key: found[key] for key in wanted if key in found})


def aws_session(region: str | None) -> boto3.session.Session:
    """A session that has credentials and a region, found the way the AWS CLI finds them (boto3
    alone ignores AWS_REGION); checked before any AWS call, since botocore would only say "You
    must specify a region"."""
    try:
        session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION"))
        credentials = session.get_credentials()
    except BotoCoreError as error:  # a profile that does not exist, an unreadable config file
        raise ConnectError(f"AWS: {error}") from None
    if credentials is None:
        raise ConnectError(NO_CREDENTIALS)
    if not session.region_name:
        raise ConnectError(no_region())
    return session


def stack_description(
    cloudformation: "CloudFormationClient", stack_name: str
) -> "StackTypeDef | None":
    """The stack as CloudFormation describes it; None when it is not deployed."""
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise ConnectError(f"cannot read stack {stack_name}: {error}") from None
    return stack


def stack_parameters(stack: "StackTypeDef") -> dict[str, str]:
    """The parameter values the stack was deployed with."""
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def deployed_stack(cloudformation: "CloudFormationClient", stack_name: str) -> Stack:
    """The stack's webhook URL and the name of the token parameter it was deployed with."""
    stack = stack_description(cloudformation, stack_name)
    if stack is None:
        region = cloudformation.meta.region_name
        deploy = as_started("make deploy", "python -m devtools.deploy")
        other_region = as_started("REGION=", "--region")
        raise ConnectError(
            f"stack {stack_name} is not deployed in this account in {region}: deploy it with "
            f"{deploy} (or give the region it is in with {other_region})"
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "WebhookUrl" not in outputs:
        raise ConnectError(f"stack {stack_name} has no WebhookUrl output: is it this project's?")
    return Stack(outputs["WebhookUrl"], stack_parameters(stack).get("AuthTokenParameterName"))


def twilio_credentials(
    ssm_client_factory: Callable[[], ParameterStore], stack: Stack
) -> tuple[str, str]:
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID")
    if not account_sid:
        raise ConnectError("set TWILIO_ACCOUNT_SID to your Twilio account SID (AC...)")
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if token:
        return account_sid, token
    if not stack.token_parameter:
        raise ConnectError("set TWILIO_AUTH_TOKEN: the stack names no token parameter")
    try:
        parameter = ssm_client_factory().get_parameter(
            Name=stack.token_parameter, WithDecryption=True
        )
    except (ClientError, BotoCoreError) as error:
        raise ConnectError(
            f"set TWILIO_AUTH_TOKEN, or make SSM parameter {stack.token_parameter} readable: "
            f"{error}"
        ) from None
    return account_sid, parameter["Parameter"]["Value"]


def connect(twilio: Client, number: str, webhook_url: str, dry_run: bool) -> str:
    """Set the number's SMS webhook; what changed (or would), in one line."""
    try:
        found = twilio.incoming_phone_numbers.list(phone_number=number, limit=1)
    except TwilioException as error:
        raise _refused(error) from None
    if not found:
        raise ConnectError(f"{number} is not a number of account {twilio.account_sid}")
    phone = found[0]
    old = f"{phone.sms_method or 'POST'} {phone.sms_url or '(none)'}"
    new = f"{WEBHOOK_METHOD} {webhook_url}"
    if phone.sms_url == webhook_url and (phone.sms_method or "").upper() == WEBHOOK_METHOD:
        return f"{number}: already {new}, nothing to change"
    if dry_run:
        return f"{number}: would change {old} -> {new} (dry run, nothing changed)"
    try:
        twilio.incoming_phone_numbers(phone.sid).update(
            sms_url=webhook_url, sms_method=WEBHOOK_METHOD
        )
    except TwilioException as error:
        raise _refused(error) from None
    return f"{number}: changed {old} -> {new}"


def _refused(error: TwilioException) -> ConnectError:
    """One line for an error answer of Twilio's API, whichever way twilio reports it."""
    if isinstance(error, TwilioRestException):
        status, detail = error.status, error.msg
    else:  # a page that could not be fetched: ("Unable to fetch page", response)
        response = error.args[-1] if error.args else None
        status = getattr(response, "status_code", "?")
        detail = str(error.args[0]) if error.args else "no detail"
    hint = ": check TWILIO_ACCOUNT_SID and the auth token" if status in (401, 403) else ""
    return ConnectError(f"Twilio refused the request (HTTP {status}, {detail}){hint}")


def point_number(
    session: boto3.session.Session,
    stack: Stack,
    number: str,
    *,
    dry_run: bool = False,
    http_client: HttpClient | None = None,
) -> str:
    """Point the number at the stack's webhook with the user's Twilio credentials; one line."""
    try:
        account_sid, token = twilio_credentials(lambda: session.client("ssm"), stack)
    except BotoCoreError as error:  # no network
        raise ConnectError(f"AWS: {error}") from None
    try:
        twilio = Client(account_sid, token, http_client=http_client)
        return connect(twilio, number, stack.webhook_url, dry_run)
    except (TwilioException, requests.RequestException) as error:
        raise ConnectError(f"Twilio: {error}") from None


def run(
    argv: list[str] | None = None,
    *,
    http_client: HttpClient | None = None,
    samconfig: Path = PROJECT / "samconfig.toml",
) -> str:
    """The whole command; `http_client` lets tests see what Twilio's API would receive."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("number", help="the Twilio number, E.164 (+15551234567)")
    parser.add_argument("--dry-run", action="store_true", help="show the change, make none")
    parser.add_argument("--stack-name", help="default: samconfig.toml's stack_name")
    parser.add_argument("--region", help="default: samconfig.toml's region, else AWS's default")
    args = parser.parse_args(argv)

    defaults = samconfig_defaults(samconfig)
    stack_name = args.stack_name or defaults.get("stack_name")
    if not stack_name:
        raise ConnectError("no stack name: pass --stack-name or set stack_name in samconfig.toml")
    session = aws_session(args.region or defaults.get("region"))
    try:
        stack = deployed_stack(session.client("cloudformation"), stack_name)
    except BotoCoreError as error:  # no network
        raise ConnectError(f"AWS: {error}") from None
    return point_number(session, stack, args.number, dry_run=args.dry_run, http_client=http_client)


def main() -> None:
    try:
        print(run())
    except ConnectError as error:
        print(f"{as_started('make connect', 'devtools.connect')}: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
