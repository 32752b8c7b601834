"""`make deploy`: from credentials to a live webhook URL in one command that asks nothing else.

    python -m devtools.deploy [--number +15551234567] [--parameter-overrides "Key=Value ..."]
                              [--region REGION] [--stack-name NAME] [--sam PATH]
    python -m devtools.deploy --destroy [--region REGION] [--stack-name NAME] [--sam PATH]

First, before anything is asked or built, AWS credentials and a region must be there (found as the
AWS CLI and SAM find them; stack name and region from samconfig.toml unless given). Then the Twilio
auth token: if the SSM parameter the stack reads (AuthTokenParameterName) does not exist yet, it is
taken from TWILIO_AUTH_TOKEN or typed at a hidden prompt, and stored with boto3 as a SecureString;
it never appears on a command line and never reaches sam. Then `sam build` and `sam deploy`, with
samconfig.toml's defaults and the flags that make sam ask nothing; an unchanged stack is a success.
It ends with the WebhookUrl, and with --number points that Twilio number at it (as `make connect`).

--destroy deletes the stack with `sam delete`, then asks before deleting the token's parameter.
"""

import argparse
import getpass
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError
from samcli.cli.types import CfnParameterOverridesType
from samcli.yamlhelper import yaml_parse
from twilio.http import HttpClient

from devtools.commands import as_started
from devtools.connect import (
    ConnectError,
    ParameterStore,
    aws_session,
    deployed_stack,
    point_number,
    samconfig_defaults,
    stack_description,
    stack_parameters,
)
from devtools.paths import PROJECT

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.type_defs import StackTypeDef

SSM_NAME_PARAMETER = "AuthTokenParameterName"
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
POLICY = "docs/deploy-policy.json"


class DeployError(Exception):
    """A step that cannot go on, and what to do about it, in one line."""


class TokenStore(ParameterStore, Protocol):
    """What make deploy and make destroy call of an SSM client, besides reading a parameter."""

    def put_parameter(self, *, Name: str, Value: str, Type: str, Description: str) -> object: ...

    def delete_parameter(self, *, Name: str) -> object: ...


TemplateParameters = dict[str, dict[str, object]]
"""template.yaml's parameters, each by name: its `Type`, `Default`, `Description`..."""


@cache
def template_parameters(template: Path = PROJECT / "template.yaml") -> TemplateParameters:
    """Read once a run: parsing the template in pure Python takes tens of milliseconds."""
    parameters: TemplateParameters = yaml_parse(template.read_text())["Parameters"]
    return parameters


def parameter_overrides(value: str | list[str] | None, origin: str) -> dict[str, str]:
    """Overrides parsed by SAM's own parser, so they mean here what they will mean to sam."""
    try:
        overrides: dict[str, str] = CfnParameterOverridesType().convert(value, None, None)
    except click.BadParameter as error:
        raise DeployError(f"{origin}: {error.message}") from None
    return overrides


def token_parameter_name(
    overrides: dict[str, str], stack: "StackTypeDef | None", template: TemplateParameters
) -> str:
    """The parameter the deployed function will read its token from, resolved as `sam deploy`
    resolves AuthTokenParameterName: an override, else the value the stack already has, else the
    template's default."""
    previous = stack_parameters(stack) if stack else {}
    return (
        overrides.get(SSM_NAME_PARAMETER)
        or previous.get(SSM_NAME_PARAMETER)
        or str(template[SSM_NAME_PARAMETER]["Default"])
    )


def account(session: boto3.session.Session) -> str:
    """The account the credentials belong to, which also proves that AWS accepts them."""
    try:
        return session.client("sts").get_caller_identity()["Account"]
    except ClientError as error:
        raise DeployError(
            f"AWS refused the credentials ({error.response['Error']['Code']}): renew them "
            "(`aws sso login`, `aws configure`) or pick others with AWS_PROFILE"
        ) from None
    except BotoCoreError as error:
        raise DeployError(f"AWS: {error}") from None


def token_exists(ssm: ParameterStore, name: str) -> bool:
    try:
        ssm.get_parameter(Name=name)  # not decrypted: existing is all that matters here
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ParameterNotFound":
            return False
        raise DeployError(
            f"cannot read SSM parameter {name} ({code}): the deploying identity needs "
            f"ssm:GetParameter on it (see {POLICY})"
        ) from None
    return True


def auth_token() -> str:
    """The token from TWILIO_AUTH_TOKEN, else typed without echo; never read from a pipe, so that
    nothing waits for input when no one is there to type."""
    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    if token:
        return token
    if not sys.stdin.isatty():
        raise DeployError(
            "the Twilio auth token is not in SSM yet: set TWILIO_AUTH_TOKEN, or run "
            f"{as_started('make deploy', 'this')} in a terminal to type it"
        )
    try:
        token = getpass.getpass(
            "Twilio auth token (Twilio console > Account > API keys & tokens; input hidden): "
        ).strip()
    except (EOFError, KeyboardInterrupt):
        token = ""
    if not token:
        raise DeployError("no auth token given: nothing was stored or deployed")
    return token


def store_token(ssm: TokenStore, name: str, token: str) -> None:
    try:
        ssm.put_parameter(
            Name=name,
            Value=token,
            Type="SecureString",
            Description="Twilio auth token that the twilio-sms-webhook function checks with",
        )
    except ClientError as error:  # only the code: a message could quote what was sent
        raise DeployError(
            f"cannot store the token in SSM parameter {name} ({error.response['Error']['Code']}):"
            f" the deploying identity needs ssm:PutParameter on it (see {POLICY})"
        ) from None
    except BotoCoreError as error:
        raise DeployError(f"AWS: cannot store the token ({type(error).__name__})") from None


def sam_cli(name: str) -> str:
    """The SAM CLI's path, found before anything is asked or stored."""
    found = shutil.which(name)
    if found is None:
        raise DeployError(
            f"the SAM CLI ({name}) is not found: "
            + as_started(
                "make deploy uses .venv/bin/sam, which make build installs",
                "give its path with --sam, or pip install -r requirements-dev.txt",
            )
        )
    return os.path.abspath(found)


def sam(executable: str, *arguments: str) -> None:
    """Run the SAM CLI with its own output; its standard input is /dev/null, so it can never
    wait for an answer, and its environment has no TWILIO_AUTH_TOKEN."""
    environment = {k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}
    sys.stdout.flush()
    done = subprocess.run(  # noqa: S603 - the SAM CLI, with arguments built here
        [executable, *arguments],
        cwd=PROJECT,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        raise DeployError(
            f"sam {arguments[0]} failed (exit status {done.returncode}): its output above says why"
        )


def deploy_arguments(stack_name: str, region: str, overrides: str | None) -> list[str]:
    """`sam deploy` with samconfig.toml's defaults (capabilities, resolve_s3) and what makes it
    ask nothing: no changeset confirmation, and "No changes to deploy" is exit status 0."""
    arguments = ["deploy", "--stack-name", stack_name, "--region", region]
    arguments += ["--no-confirm-changeset", "--no-fail-on-empty-changeset"]
    if overrides:
        arguments += ["--parameter-overrides", overrides]
    return arguments


def ask(question: str) -> bool:
    """A yes/no question, answered no when there is no terminal to answer it."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except (EOFError, KeyboardInterrupt):
        return False


def deploy(
    session: boto3.session.Session,
    stack_name: str,
    overrides: str | None,
    given: dict[str, str],
    *,
    number: str | None,
    sam_executable: str,
    http_client: HttpClient | None,
) -> None:
    """`overrides` as the user typed them, for sam; `given`, the overrides sam will apply."""
    region = session.region_name
    cloudformation = session.client("cloudformation")
    print(f"Deploying stack {stack_name} to AWS account {account(session)} in {region}.")

    previous = stack_description(cloudformation, stack_name)
    name = token_parameter_name(given, previous, template_parameters())
    ssm: TokenStore = session.client("ssm")
    if token_exists(ssm, name):
        print(f"Auth token: SSM parameter {name} is there, left as it is.")
    else:
        store_token(ssm, name, auth_token())
        print(f"Auth token: stored in SSM parameter {name} (SecureString).")

    sam(sam_executable, "build")
    sam(sam_executable, *deploy_arguments(stack_name, region, overrides))

    stack = deployed_stack(cloudformation, stack_name)
    print(f"WebhookUrl: {stack.webhook_url}")
    if number:
        print(point_number(session, stack, number, http_client=http_client))
    else:
        connect = as_started("make connect NUMBER=+1...", "python -m devtools.connect +1...")
        print(f"Point your Twilio number at it: {connect}")


def destroy(
    session: boto3.session.Session, stack_name: str, given: dict[str, str], sam_executable: str
) -> None:
    region = session.region_name
    stack = stack_description(session.client("cloudformation"), stack_name)
    name = token_parameter_name(given, stack, template_parameters())
    if stack is None:
        print(f"Stack {stack_name} is not deployed in AWS account {account(session)} in {region}.")
    else:
        print(f"Deleting stack {stack_name} from AWS account {account(session)} in {region}.")
        sam(
            sam_executable, "delete", "--stack-name", stack_name, "--region", region, "--no-prompts"
        )

    ssm: TokenStore = session.client("ssm")
    if not token_exists(ssm, name):
        return
    if ask(f"Delete SSM parameter {name}, your Twilio auth token, too?"):
        try:
            ssm.delete_parameter(Name=name)
        except ClientError as error:
            raise DeployError(
                f"cannot delete SSM parameter {name} ({error.response['Error']['Code']}): the "
                f"deploying identity needs ssm:DeleteParameter on it (see {POLICY})"
            ) from None
        print(f"Deleted SSM parameter {name}.")
    else:
        again = as_started("make destroy", "--destroy")
        print(f"Kept SSM parameter {name} ({again} in a terminal asks again).")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", help="then point this Twilio number (E.164) at the webhook")
    parser.add_argument(
        "--parameter-overrides",
        metavar="OVERRIDES",
        help="template parameters, as sam takes them: \"ReplyMessage='Hello' Alarms=Disabled\"",
    )
    parser.add_argument("--region", help="default: samconfig.toml's region, else AWS's default")
    parser.add_argument("--stack-name", help="default: samconfig.toml's stack_name")
    parser.add_argument("--sam", default="sam", help="the SAM CLI to run (default: sam on PATH)")
    parser.add_argument(
        "--destroy", action="store_true", help="delete the stack, then offer to delete the token"
    )
    args = parser.parse_args(argv)
    if args.destroy and (args.number or args.parameter_overrides):
        parser.error("--destroy takes neither --number nor --parameter-overrides")
    if args.number and not E164.fullmatch(args.number):
        parser.error(f"--number {args.number}: give the number in E.164 form, like +15551234567")
    try:
        args.overrides = parameter_overrides(args.parameter_overrides, "--parameter-overrides")
    except DeployError as error:
        parser.error(str(error))
    known = template_parameters()
    unknown = sorted(set(args.overrides) - set(known))
    if unknown:
        parser.error(
            f"--parameter-overrides: template.yaml has no parameter {', '.join(unknown)} "
            f"(it has {', '.join(known)})"
        )
    return args


def run(
    argv: list[str] | None = None,
    *,
    http_client: HttpClient | None = None,
    samconfig: Path = PROJECT / "samconfig.toml",
) -> None:
    """The whole command; `http_client` lets tests see what Twilio's API would receive."""
    args = parse(argv)
    defaults = samconfig_defaults(samconfig)
    stack_name = args.stack_name or defaults.get("stack_name")
    if not stack_name:
        raise DeployError("no stack name: pass --stack-name or set stack_name in samconfig.toml")
    if args.number and not os.environ.get("TWILIO_ACCOUNT_SID"):
        raise DeployError(
            "set TWILIO_ACCOUNT_SID (AC...) to point the number at the webhook, or leave NUMBER out"
        )
    session = aws_session(args.region or defaults.get("region"))
    sam_executable = sam_cli(args.sam)
    # As sam does: overrides on the command line replace samconfig.toml's.
    given = args.overrides or parameter_overrides(
        defaults.get("parameter_overrides"), "samconfig.toml's parameter_overrides"
    )
    try:
        if args.destroy:
            destroy(session, stack_name, given, sam_executable)
        else:
            deploy(
                session,
                stack_name,
                args.parameter_overrides,
                given,
                number=args.number,
                sam_executable=sam_executable,
                http_client=http_client,
            )
    except BotoCoreError as error:  # no network
        raise DeployError(f"AWS: {error}") from None


def main() -> None:
    command = as_started(
        "make destroy" if "--destroy" in sys.argv else "make deploy", "devtools.deploy"
    )
    try:
        run()
    except (DeployError, ConnectError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
