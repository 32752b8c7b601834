"""template.yaml deploys what the README promises, and SAM's own linter accepts it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = yaml_parse((PROJECT / "template.yaml").read_text())
FUNCTION = TEMPLATE["Resources"]["WebhookFunction"]["Properties"]
PARAMETERS = TEMPLATE["Parameters"]


def test_function_runs_the_handler_on_python_3_13():
    assert FUNCTION["Handler"] == "handler.lambda_handler"
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.13"


def test_architecture_is_a_parameter_defaulting_to_arm64():
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert PARAMETERS["Architecture"]["Default"] == "arm64"
    assert PARAMETERS["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]


@pytest.mark.parametrize("method", ["post", "get"])
def test_rest_api_routes_the_method_on_sms_to_the_function(method):
    events = FUNCTION["Events"].values()

    assert {"Type": "Api", "Properties": {"Path": "/sms", "Method": method}} in events


def test_parameters_are_the_token_parameter_name_reply_and_public_url():
    assert PARAMETERS["AuthTokenParameterName"]["Default"] == "/twilio/auth-token"
    assert PARAMETERS["ReplyMessage"]["Default"] == "I'm busy questing right now!"
    assert PARAMETERS["PublicUrl"]["Default"] == ""


def test_the_token_itself_is_neither_a_parameter_nor_set_in_the_environment():
    variables = FUNCTION["Environment"]["Variables"]

    assert variables["TWILIO_AUTH_TOKEN"] == ""
    assert variables["TWILIO_AUTH_TOKEN_PARAMETER"] == {"Ref": "AuthTokenParameterName"}
    assert not any("Token" in name and "Name" not in name for name in PARAMETERS)


def test_function_may_read_only_the_token_parameter():
    [policy] = FUNCTION["Policies"]
    [statement] = policy["Statement"]

    assert statement["Action"] == "ssm:GetParameter"
    assert statement["Resource"]["Fn::Sub"].endswith(":parameter${AuthTokenParameterName}")


def test_webhook_url_output_is_the_prod_stage_sms_url():
    url = TEMPLATE["Outputs"]["WebhookUrl"]["Value"]["Fn::Sub"]

    assert (
        url == "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/sms"
    )


def test_requirements_hold_runtime_dependencies_only():
    names = {
        line.split("==")[0].strip().lower()
        for line in (PROJECT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert names == {"aws-lambda-powertools", "twilio"}


def test_sam_validate_lint_is_clean():
    sam = Path(sys.executable).with_name("sam")

    result = subprocess.run(
        [str(sam), "validate", "--lint"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
