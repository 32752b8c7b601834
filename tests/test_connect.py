"""`make connect`: the stack's WebhookUrl (CloudFormation in moto) set on the Twilio number."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from devtools import connect
from devtools.connect import (
    NO_CREDENTIALS,
    ConnectError,
    aws_session,
    run,
    samconfig_defaults,
)
from tests.conftest import TOKEN_PARAMETER, put_secret
from tests.support.local_project import PROJECT, without_make
from tests.support.recording_twilio import ACCOUNT_SID, API, NUMBER, NUMBER_SID, RecordingTwilio

STACK_TEMPLATE = Path(__file__).parent / "stacks" / "webhook-stack.json"
WEBHOOK_URL = "https://abc123defg.execute-api.us-east-1.amazonaws.com/Prod/sms"
STACK = "twilio-sms-webhook"


@pytest.fixture
def aws(aws_account, monkeypatch):
    """A deployed stack (moto) and the token in SSM; Twilio credentials as a user sets them."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    put_secret(boto3.client("ssm"), TOKEN_PARAMETER, "token-from-ssm")
    boto3.client("cloudformation").create_stack(
        StackName=STACK, TemplateBody=STACK_TEMPLATE.read_text()
    )


def connect_number(twilio: RecordingTwilio, *options: str) -> str:
    return run([NUMBER, "--region", "us-east-1", *options], http_client=twilio)


def test_the_number_webhook_is_set_to_the_stack_url_with_post(aws):
    twilio = RecordingTwilio()

    connect_number(twilio)

    [change] = twilio.changes
    assert change.url == f"{API}/IncomingPhoneNumbers/{NUMBER_SID}.json"
    assert change.data == {"SmsUrl": WEBHOOK_URL, "SmsMethod": "POST"}


def test_the_number_is_looked_up_by_its_e164_form(aws):
    twilio = RecordingTwilio()

    connect_number(twilio)

    lookup = twilio.requests[0]
    assert (lookup.method, lookup.url) == ("GET", f"{API}/IncomingPhoneNumbers.json")
    assert lookup.params["PhoneNumber"] == NUMBER


def test_twilio_is_called_with_the_account_sid_and_the_token_from_ssm(aws):
    twilio = RecordingTwilio()

    connect_number(twilio)

    assert {request.auth for request in twilio.requests} == {(ACCOUNT_SID, "token-from-ssm")}


def test_the_token_in_the_environment_wins(aws, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token-from-env")
    twilio = RecordingTwilio()

    connect_number(twilio)

    assert twilio.requests[0].auth == (ACCOUNT_SID, "token-from-env")


def test_it_says_what_it_changed(aws):
    printed = connect_number(RecordingTwilio())

    assert printed == (
        f"{NUMBER}: changed POST https://demo.twilio.com/welcome/sms/reply -> POST {WEBHOOK_URL}"
    )


def test_a_get_webhook_is_switched_to_post(aws):
    twilio = RecordingTwilio(sms_url=WEBHOOK_URL, sms_method="GET")

    connect_number(twilio)

    assert twilio.changes[0].data["SmsMethod"] == "POST"


def test_running_it_again_changes_nothing(aws):
    twilio = RecordingTwilio(sms_url=WEBHOOK_URL)

    printed = connect_number(twilio)

    assert twilio.changes == []
    assert printed == f"{NUMBER}: already POST {WEBHOOK_URL}, nothing to change"


def test_dry_run_shows_the_change_and_makes_none(aws):
    twilio = RecordingTwilio()

    printed = connect_number(twilio, "--dry-run")

    assert twilio.changes == []
    assert "would change POST https://demo.twilio.com/welcome/sms/reply -> POST" in printed


def test_a_number_not_in_the_account_is_an_error(aws):
    with pytest.raises(ConnectError, match=f"{NUMBER.replace('+', '.')} is not a number of"):
        connect_number(RecordingTwilio(sms_url=None))


def test_a_stack_not_deployed_is_an_error_naming_the_region_and_make_deploy(aws, under_make):
    with pytest.raises(
        ConnectError,
        match="stack elsewhere is not deployed in this account in us-east-1: deploy it with make "
        "deploy",
    ):
        connect_number(RecordingTwilio(), "--stack-name", "elsewhere")


def test_without_a_region_it_says_how_to_give_one(no_aws_configuration, under_make, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    with pytest.raises(ConnectError) as error:
        run([NUMBER], http_client=RecordingTwilio())

    assert str(error.value).startswith("no AWS region: give one with REGION=us-east-1,")


def test_without_make_or_a_region_it_says_to_give_region(
    no_aws_configuration, by_hand, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    with pytest.raises(ConnectError) as error:
        run([NUMBER], http_client=RecordingTwilio())

    assert str(error.value).startswith("no AWS region: give one with --region us-east-1,")


def test_aws_region_wins_over_aws_default_region_as_in_the_aws_cli(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert aws_session(None).region_name == "eu-west-1"


def test_without_credentials_it_says_how_to_set_them(no_aws_configuration):
    with pytest.raises(ConnectError) as error:
        run([NUMBER, "--region", "us-east-1"], http_client=RecordingTwilio())

    assert str(error.value) == NO_CREDENTIALS


def test_missing_account_sid_is_an_error(aws, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")

    with pytest.raises(ConnectError, match="set TWILIO_ACCOUNT_SID"):
        connect_number(RecordingTwilio())


def test_unreadable_token_parameter_is_an_error(aws):
    boto3.client("ssm").delete_parameter(Name=TOKEN_PARAMETER)

    with pytest.raises(ConnectError, match="set TWILIO_AUTH_TOKEN, or make SSM parameter"):
        connect_number(RecordingTwilio())


def test_credentials_twilio_refuses_are_an_error(aws):
    with pytest.raises(
        ConnectError, match=r"Twilio refused the request \(HTTP 401.*check TWILIO_ACCOUNT_SID"
    ):
        connect_number(RecordingTwilio(status=401))


def test_errors_are_one_line_on_stderr_with_exit_status_1(aws, monkeypatch, capsys):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.setattr(sys, "argv", ["connect", NUMBER, "--region", "us-east-1"])

    with pytest.raises(SystemExit) as exit_info:
        connect.main()

    assert exit_info.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_stack_name_comes_from_samconfig():
    assert samconfig_defaults()["stack_name"] == STACK


def test_samconfig_deploy_section_can_name_stack_and_region(tmp_path):
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        'version = 0.1\n[default.deploy.parameters]\nstack_name = "mine"\nregion = "eu-west-1"\n'
    )

    assert samconfig_defaults(samconfig) == {"stack_name": "mine", "region": "eu-west-1"}


def test_the_stack_template_stand_in_matches_the_real_output_name():
    real_outputs = (Path(__file__).parent.parent / "template.yaml").read_text()

    assert all(name in real_outputs for name in json.loads(STACK_TEMPLATE.read_text())["Outputs"])


def test_make_connect_prints_what_connect_says_not_its_own_command_line(no_aws_configuration):
    make = [shutil.which("make"), "--no-print-directory", "-o", ".venv/.dev"]
    result = subprocess.run(
        [*make, f"BIN={Path(sys.executable).parent}", "connect", f"NUMBER={NUMBER}", "DRY_RUN=1"],
        cwd=PROJECT,
        env=without_make(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("make connect: no AWS credentials: run")
