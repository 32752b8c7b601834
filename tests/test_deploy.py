"""`make deploy` and `make destroy`: AWS checked before anything else, the token stored once and
never shown, sam run without questions (a recording stand-in first on PATH), the WebhookUrl read
from the stack (moto's CloudFormation, STS and SSM)."""

import fnmatch
import getpass
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from samtranslator.yaml_helper import yaml_parse

from devtools import deploy
from devtools.connect import NO_CREDENTIALS, no_region, samconfig_defaults
from tests.conftest import TOKEN_PARAMETER, put_secret
from tests.support.recording_twilio import ACCOUNT_SID, API, NUMBER, NUMBER_SID, RecordingTwilio
from tests.support.twilio_requests import SSM_TOKEN, TOKEN

PROJECT = Path(__file__).resolve().parent.parent
STACK_TEMPLATE = Path(__file__).parent / "stacks" / "webhook-stack.json"
FAKE_SAM = Path(__file__).parent / "support" / "fake_sam.py"
WEBHOOK_URL = "https://abc123defg.execute-api.us-east-1.amazonaws.com/Prod/sms"
STACK = "twilio-sms-webhook"
DEPLOY = [
    "deploy",
    "--stack-name",
    STACK,
    "--region",
    "us-east-1",
    "--no-confirm-changeset",
    "--no-fail-on-empty-changeset",
]

pytestmark = pytest.mark.usefixtures("under_make")
"""Each runs as `make deploy` does: its messages name make's targets (one test runs it without)."""


class Terminal(io.StringIO):
    """Standard input as a terminal, holding what the user will type."""

    def isatty(self) -> bool:
        return True


class Sam:
    """The recording `sam` executable, first on PATH."""

    def __init__(self, directory: Path):
        self.executable = directory / "bin" / "sam"
        self.executable.parent.mkdir()
        self.executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_SAM}" "$@"\n')
        self.executable.chmod(0o755)
        self.record = directory / "sam-calls.jsonl"

    @property
    def calls(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    @property
    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls]


@pytest.fixture
def sam(tmp_path, monkeypatch) -> Sam:
    recording = Sam(tmp_path)
    monkeypatch.setenv("PATH", f"{recording.executable.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SAM_RECORD", str(recording.record))
    return recording


@pytest.fixture
def typed(monkeypatch) -> list[str]:
    """The prompts of hidden input; whatever is asked is answered with SSM_TOKEN."""
    prompts = []

    def hidden_input(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return SSM_TOKEN

    monkeypatch.setattr(getpass, "getpass", hidden_input)
    return prompts


@pytest.fixture
def aws(aws_account, sam, typed):
    """An account (moto) where sam's deploy leaves the stack; the token is not in SSM yet."""
    boto3.client("cloudformation").create_stack(
        StackName=STACK, TemplateBody=STACK_TEMPLATE.read_text()
    )


def stored(name: str = TOKEN_PARAMETER) -> dict:
    return boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]


def main(monkeypatch, *arguments: str) -> int:
    """The command as `make` runs it: its exit status."""
    monkeypatch.setattr(sys, "argv", ["deploy", *arguments])
    try:
        deploy.main()
    except SystemExit as exit_info:
        return exit_info.code
    return 0


@pytest.mark.parametrize(
    ("configured", "missing"),
    [
        ({"AWS_DEFAULT_REGION": "us-east-1"}, lambda: NO_CREDENTIALS),
        ({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}, no_region),
    ],
    ids=["no credentials", "no region"],
)
def test_without_credentials_or_a_region_it_stops_at_once_with_one_line_and_exit_status_1(
    configured, missing, sam, typed, no_aws_configuration, under_make, monkeypatch, capsys
):
    for name, value in configured.items():
        monkeypatch.setenv(name, value)

    status = main(monkeypatch)

    assert status == 1
    assert capsys.readouterr().err == f"make deploy: {missing()}\n"
    assert (sam.calls, typed) == ([], [])


def test_a_missing_token_parameter_is_stored_as_a_securestring_from_twilio_auth_token(aws, typed):
    deploy.run([])

    parameter = stored()
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", TOKEN)
    assert typed == []


def test_a_missing_token_parameter_is_asked_for_with_hidden_input_in_a_terminal(
    aws, typed, monkeypatch, capsys
):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setattr(sys, "stdin", Terminal())

    deploy.run([])

    assert len(typed) == 1
    assert "Twilio auth token" in typed[0]
    assert stored()["Value"] == SSM_TOKEN
    assert f"Auth token: stored in SSM parameter {TOKEN_PARAMETER} (SecureString)." in (
        capsys.readouterr().out
    )


def test_without_a_terminal_or_twilio_auth_token_it_says_how_and_deploys_nothing(
    aws, sam, monkeypatch, capsys
):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    status = main(monkeypatch)

    assert status == 1
    assert capsys.readouterr().err == (
        "make deploy: the Twilio auth token is not in SSM yet: set TWILIO_AUTH_TOKEN, or run "
        "make deploy in a terminal to type it\n"
    )
    assert sam.calls == []


def test_an_empty_answer_at_the_prompt_stores_and_deploys_nothing(aws, sam, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "")

    with pytest.raises(deploy.DeployError, match="no auth token given"):
        deploy.run([])

    assert sam.calls == []
    with pytest.raises(boto3.client("ssm").exceptions.ParameterNotFound):
        stored()


def test_an_existing_token_parameter_is_kept_and_nothing_is_asked(aws, typed, monkeypatch, capsys):
    put_secret(boto3.client("ssm"), TOKEN_PARAMETER, SSM_TOKEN)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setattr(sys, "stdin", Terminal())

    deploy.run([])

    assert typed == []
    assert stored()["Value"] == SSM_TOKEN
    assert f"SSM parameter {TOKEN_PARAMETER} is there, left as it is." in capsys.readouterr().out


def test_the_token_parameter_named_in_params_is_the_one_stored(aws):
    deploy.run(["--parameter-overrides", "AuthTokenParameterName=/prod/twilio-token"])

    assert stored("/prod/twilio-token")["Value"] == TOKEN


GUIDED_SAMCONFIG = r"""version = 0.1
[default.global.parameters]
stack_name = "twilio-sms-webhook"
[default.deploy.parameters]
parameter_overrides = "AuthTokenParameterName=\"/saved/token\" Alarms=\"Enabled\""
"""


@pytest.fixture
def guided_samconfig(tmp_path) -> Path:
    """samconfig.toml as a guided deploy leaves it, with the parameters it was given."""
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(GUIDED_SAMCONFIG)
    return samconfig


def test_the_token_parameter_named_in_samconfig_is_the_one_stored(aws, guided_samconfig):
    deploy.run([], samconfig=guided_samconfig)

    assert stored("/saved/token")["Value"] == TOKEN


def test_params_replace_the_overrides_of_samconfig_as_in_sam(aws, guided_samconfig):
    deploy.run(["--parameter-overrides", "ReplyMessage=Hi"], samconfig=guided_samconfig)

    assert stored()["Value"] == TOKEN


def test_an_update_stores_the_token_where_the_deployed_stack_reads_it(aws):
    boto3.client("cloudformation").update_stack(
        StackName=STACK,
        TemplateBody=STACK_TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "AuthTokenParameterName", "ParameterValue": "/mine/token"}],
    )

    deploy.run([])

    assert stored("/mine/token")["Value"] == TOKEN


def test_sam_builds_then_deploys_with_flags_that_make_it_ask_nothing(aws, sam):
    deploy.run([])

    assert sam.argvs == [["build"], DEPLOY]


def test_params_reach_sam_deploy_as_given(aws, sam):
    overrides = "ReplyMessage='Hello there' Alarms=Disabled"

    deploy.run(["--parameter-overrides", overrides])

    assert sam.argvs[1] == [*DEPLOY, "--parameter-overrides", overrides]


def test_a_parameter_the_template_does_not_have_is_a_usage_error(aws, sam, monkeypatch, capsys):
    status = main(monkeypatch, "--parameter-overrides", "ReplyMesage=Hi")

    assert status == 2
    assert "template.yaml has no parameter ReplyMesage" in capsys.readouterr().err
    assert sam.calls == []


@pytest.fixture
def stdin_pipe():
    """File descriptor 0 is a pipe that is never written to (and never closed, as a parent's
    stdin would be), so that a child that inherits it could wait on it."""
    read, write = os.pipe()
    saved = os.dup(0)
    os.dup2(read, 0)
    yield
    os.dup2(saved, 0)
    for descriptor in (saved, read, write):
        os.close(descriptor)


def test_sam_never_waits_for_input_and_never_sees_the_token(aws, sam, stdin_pipe):
    deploy.run([])

    for call in sam.calls:
        assert call["stdin_is_devnull"]
        assert "TWILIO_AUTH_TOKEN" not in call["env"]
        assert TOKEN not in json.dumps(call)


def test_the_typed_token_is_in_no_output_and_no_argument(aws, sam, monkeypatch, capsys):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setattr(sys, "stdin", Terminal())

    deploy.run([])

    printed = capsys.readouterr()
    assert SSM_TOKEN not in printed.out + printed.err
    assert SSM_TOKEN not in json.dumps(sam.calls)


def test_it_ends_with_the_webhook_url_and_how_to_point_a_number_at_it(aws, capsys):
    deploy.run([])

    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"WebhookUrl: {WEBHOOK_URL}",
        "Point your Twilio number at it: make connect NUMBER=+1...",
    ]


def test_without_make_it_ends_with_the_command_that_points_a_number(aws, by_hand, capsys):
    deploy.run([])

    assert capsys.readouterr().out.splitlines()[-1] == (
        "Point your Twilio number at it: python -m devtools.connect +1..."
    )


def test_with_a_number_it_points_the_number_at_the_webhook(aws, monkeypatch, capsys):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    twilio = RecordingTwilio()

    deploy.run(["--number", NUMBER], http_client=twilio)

    [change] = twilio.changes
    assert change.url == f"{API}/IncomingPhoneNumbers/{NUMBER_SID}.json"
    assert change.data == {"SmsUrl": WEBHOOK_URL, "SmsMethod": "POST"}
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{NUMBER}: changed POST https://demo.twilio.com/welcome/sms/reply -> POST {WEBHOOK_URL}"
    )


def test_destroy_takes_no_number_and_no_params(aws, sam, monkeypatch, capsys):
    status = main(monkeypatch, "--destroy", "--number", NUMBER)

    assert status == 2
    assert "--destroy takes neither --number nor --parameter-overrides" in capsys.readouterr().err
    assert sam.calls == []


def test_with_a_number_but_no_account_sid_it_stops_before_anything_runs(aws, sam, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)

    with pytest.raises(deploy.DeployError, match="set TWILIO_ACCOUNT_SID"):
        deploy.run(["--number", NUMBER])

    assert sam.calls == []


def test_a_number_not_in_e164_form_is_a_usage_error(aws, sam, monkeypatch, capsys):
    status = main(monkeypatch, "--number", "5005550006")

    assert status == 2
    assert "E.164" in capsys.readouterr().err
    assert sam.calls == []


def test_run_again_it_deploys_again_and_asks_nothing(aws, sam, typed, monkeypatch, capsys):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setattr(sys, "stdin", Terminal())

    deploy.run([])
    deploy.run([])

    assert len(typed) == 1
    assert sam.argvs == [["build"], DEPLOY, ["build"], DEPLOY]
    assert capsys.readouterr().out.count(f"WebhookUrl: {WEBHOOK_URL}") == 2


def test_a_failing_sam_stops_it_with_one_line_and_exit_status_1(aws, sam, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_SAM_EXIT_STATUS", "1")

    status = main(monkeypatch)

    assert status == 1
    assert capsys.readouterr().err == (
        "make deploy: sam build failed (exit status 1): its output above says why\n"
    )
    assert sam.argvs == [["build"]]


def test_without_the_sam_cli_it_stops_before_the_token_is_stored(aws):
    with pytest.raises(deploy.DeployError, match=r"the SAM CLI \(no-such-sam\) is not found"):
        deploy.run(["--sam", "no-such-sam"])

    with pytest.raises(boto3.client("ssm").exceptions.ParameterNotFound):
        stored()


def test_destroy_deletes_the_stack_with_sam_without_its_prompts(aws, sam):
    deploy.run(["--destroy"])

    assert sam.argvs == [["delete", "--stack-name", STACK, "--region", "us-east-1", "--no-prompts"]]


def test_destroy_asks_before_deleting_the_token_parameter_and_deletes_it_on_yes(
    aws, monkeypatch, capsys
):
    put_secret(boto3.client("ssm"), TOKEN_PARAMETER, SSM_TOKEN)
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))

    deploy.run(["--destroy"])

    assert f"Delete SSM parameter {TOKEN_PARAMETER}, your Twilio auth token, too? [y/N]" in (
        capsys.readouterr().out
    )
    with pytest.raises(boto3.client("ssm").exceptions.ParameterNotFound):
        stored()


def test_destroy_keeps_the_token_parameter_when_the_answer_is_enter(aws, monkeypatch):
    put_secret(boto3.client("ssm"), TOKEN_PARAMETER, SSM_TOKEN)
    monkeypatch.setattr(sys, "stdin", Terminal("\n"))

    deploy.run(["--destroy"])

    assert stored()["Value"] == SSM_TOKEN


def test_destroy_without_a_terminal_keeps_the_token_parameter_and_says_so(aws, capsys):
    put_secret(boto3.client("ssm"), TOKEN_PARAMETER, SSM_TOKEN)

    deploy.run(["--destroy"])

    assert stored()["Value"] == SSM_TOKEN
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Kept SSM parameter {TOKEN_PARAMETER} (make destroy in a terminal asks again)."
    )


def test_destroy_of_a_stack_not_deployed_runs_no_sam(aws, sam, capsys):
    boto3.client("cloudformation").delete_stack(StackName=STACK)

    deploy.run(["--destroy"])

    assert sam.calls == []
    assert "Stack twilio-sms-webhook is not deployed" in capsys.readouterr().out


def make(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    """`make` in the project, with this interpreter's tools, never reinstalling them."""
    return subprocess.run(
        [shutil.which("make"), "--no-print-directory", "-o", ".venv/.dev", *arguments],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_make_deploy_without_credentials_fails_with_one_line_from_deploy(sam, no_aws_configuration):
    result = make(
        "deploy",
        f"BIN={Path(sys.executable).parent}",
        f"SAM={sam.executable}",
        environment={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("make deploy: no AWS credentials: run")
    assert sam.calls == []


@pytest.mark.slow
def test_make_deploy_hands_params_and_region_over_as_typed(sam):
    """Quotes in PARAMS survive make and the shell (a moto server on loopback for AWS)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        boto3.client("cloudformation", endpoint_url=endpoint, region_name="eu-west-1").create_stack(
            StackName=STACK, TemplateBody=STACK_TEMPLATE.read_text()
        )
        overrides = "ReplyMessage='Hello, \"friend\"' Alarms=Disabled"
        result = make(
            "deploy",
            f"BIN={Path(sys.executable).parent}",
            f"SAM={sam.executable}",
            f"PARAMS={overrides}",
            "REGION=eu-west-1",
            environment={**os.environ, "AWS_ENDPOINT_URL": endpoint},
        )
    finally:
        server.stop()

    assert result.returncode == 0, result.stderr
    assert sam.argvs[1] == [
        "deploy",
        "--stack-name",
        STACK,
        "--region",
        "eu-west-1",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        overrides,
    ]


POLICY = json.loads((PROJECT / "docs" / "deploy-policy.json").read_text())


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


class BasicExecutionPolicy:
    """The one managed policy SAM attaches to the function's role, without asking IAM for it."""

    @staticmethod
    def load() -> dict[str, str]:
        return {
            "AWSLambdaBasicExecutionRole": (
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
            )
        }


def created_resource_types() -> set[str]:
    """What CloudFormation creates from the template, every optional part on: SAM's own
    transform of it, with the code where `sam deploy` puts it (S3)."""
    from samtranslator.translator.transform import transform  # a third of a second: only here

    template = yaml_parse((PROJECT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    parameters = {"AlarmEmail": "alarms@example.com", "ReservedConcurrency": "5"}
    resources = transform(template, parameters, BasicExecutionPolicy())["Resources"]
    return {resource["Type"] for resource in resources.values()}


def test_the_deploy_policy_is_an_iam_policy_document_of_allow_statements():
    assert POLICY["Version"] == "2012-10-17"
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all(re.fullmatch(r"[a-z0-9]+:[A-Za-z*]+", a) for a in listed(statement["Action"]))
        assert all(r == "*" or r.startswith("arn:aws:") for r in listed(statement["Resource"]))


def test_the_deploy_policy_covers_every_service_the_template_creates_resources_in():
    services = {a.split(":")[0] for s in POLICY["Statement"] for a in listed(s["Action"])}
    created = {kind.split("::")[1].lower() for kind in created_resource_types()}

    assert created | {"cloudformation", "s3", "ssm"} <= services
    assert {
        "lambda",
        "apigateway",
        "iam",
        "dynamodb",
        "logs",
        "cloudwatch",
        "sns",
        "sqs",
        "scheduler",
    } <= created


EVENT_SOURCE_MAPPINGS = "arn:aws:lambda:*:*:event-source-mapping:*"
"""Event source mappings are named by an id Lambda gives them, not by the stack."""


def test_the_deploy_policy_scopes_what_the_stack_creates_to_the_stack_of_samconfig():
    stack = samconfig_defaults()["stack_name"]
    scoped = ("lambda", "iam", "dynamodb", "logs", "cloudwatch", "sns", "sqs", "scheduler")
    the_stacks_functions = {
        "ArnLike": {"lambda:FunctionArn": f"arn:aws:lambda:*:*:function:{stack}-*"}
    }

    for statement in POLICY["Statement"]:
        resources = listed(statement["Resource"])
        actions = listed(statement["Action"])
        if resources == ["*"] and "Condition" in statement:
            assert statement["Condition"] == the_stacks_functions
        elif resources == ["*"]:
            assert all(re.search(r":(Describe|Get)", action) for action in actions), actions
        elif resources == [EVENT_SOURCE_MAPPINGS]:
            assert sorted(actions) == [
                "lambda:ListTags",
                "lambda:TagResource",
                "lambda:UntagResource",
            ]
        elif resources[0].split(":")[2] in scoped:
            assert all(f":{stack}-" in r or f"/{stack}-" in r for r in resources), resources


@pytest.mark.parametrize(
    "kind",
    ["AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping", "AWS::Scheduler::ScheduleGroup"],
)
def test_the_deploy_policy_grants_what_cloudformation_calls_for_the_queues_mapping_and_group(kind):
    """As CloudFormation's own schema of the resource lists it (cfn-lint ships them), without the
    KMS calls made only for a key of one's own (the queues use SQS-managed encryption)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # a second to import: only here

    handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema["handlers"]
    needed = {
        permission
        for handler in ("create", "read", "update", "delete")
        for permission in handlers[handler]["permissions"]
        if not permission.startswith("kms:")
    }
    granted = {action for s in POLICY["Statement"] for action in listed(s["Action"])}

    assert kind in created_resource_types()
    assert needed - granted == set()


def allowed(action: str, arn: str) -> bool:
    """Whether a statement of the deploy policy allows `action` on `arn`."""
    return any(
        fnmatch.fnmatchcase(arn, pattern)
        for s in POLICY["Statement"]
        if action in listed(s["Action"])
        for pattern in listed(s["Resource"])
    )


SCHEDULER = "arn:aws:scheduler:eu-west-1:123456789012"
"""The start of the ARNs of a Region's schedules and groups."""


@pytest.mark.parametrize(
    ("kind", "create", "arn"),
    [
        ("AWS::DynamoDB::Table", "dynamodb:CreateTable", "arn:aws:dynamodb:eu-west-1:1234:table/"),
        ("AWS::SQS::Queue", "sqs:CreateQueue", "arn:aws:sqs:eu-west-1:1234:"),
    ],
)
def test_the_deploy_policy_lets_each_table_and_queue_be_made_by_the_name_cloudformation_gives(
    kind, create, arn
):
    """CloudFormation names a table or queue given no name `<stack>-<logical id>-<id>`."""
    stack = samconfig_defaults()["stack_name"]
    resources = yaml_parse((PROJECT / "template.yaml").read_text())["Resources"]
    arns = [
        f"{arn}{stack}-{logical_id}-1A2B3C4D5E6F"
        for logical_id, resource in resources.items()
        if resource["Type"] == kind
    ]

    assert arns
    assert [a for a in arns if not allowed(create, a)] == []


def test_the_deploy_policy_lets_the_timers_group_be_made_and_deleted_with_what_it_holds():
    """The group is named after the stack; deleting it deletes the timers not yet fired."""
    stack = samconfig_defaults()["stack_name"]
    template = yaml_parse((PROJECT / "template.yaml").read_text())
    name = template["Resources"]["ScheduleGroup"]["Properties"]["Name"]["Fn::Sub"]
    group = name.replace("${AWS::StackName}", stack)

    assert allowed("scheduler:CreateScheduleGroup", f"{SCHEDULER}:schedule-group/{group}")
    assert allowed("scheduler:DeleteScheduleGroup", f"{SCHEDULER}:schedule-group/{group}")
    assert allowed("scheduler:DeleteSchedule", f"{SCHEDULER}:schedule/{group}/text-1a2b3c")
    assert not allowed("scheduler:DeleteSchedule", f"{SCHEDULER}:schedule/default/text-1a2b3c")


def test_the_deploy_policy_lets_make_deploy_read_store_and_delete_only_the_token_parameter():
    default = yaml_parse((PROJECT / "template.yaml").read_text())["Parameters"]
    [statement] = [s for s in POLICY["Statement"] if listed(s["Action"])[0].startswith("ssm:")]

    assert statement["Resource"] == (
        f"arn:aws:ssm:*:*:parameter{default['AuthTokenParameterName']['Default']}"
    )
    assert sorted(statement["Action"]) == [
        "ssm:DeleteParameter",
        "ssm:GetParameter",
        "ssm:PutParameter",
    ]


def test_samconfig_gives_sam_deploy_its_bucket_and_the_iam_capability():
    defaults = tomllib.loads((PROJECT / "samconfig.toml").read_text())["default"]["deploy"]

    assert defaults["parameters"]["resolve_s3"] is True
    assert defaults["parameters"]["capabilities"] == "CAPABILITY_IAM"
