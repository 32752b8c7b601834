"""template.yaml deploys what the README promises, and SAM's own linter accepts it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TOKEN_PARAMETER
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

    api_event = {"RestApiId": {"Ref": "WebhookApi"}, "Path": "/sms", "Method": method}
    assert {"Type": "Api", "Properties": api_event} in events


def test_parameters_are_the_token_parameter_name_reply_and_public_url():
    assert PARAMETERS["AuthTokenParameterName"]["Default"] == TOKEN_PARAMETER
    assert PARAMETERS["ReplyMessage"]["Default"] == "I'm busy questing right now!"
    assert PARAMETERS["PublicUrl"]["Default"] == ""


def test_the_token_itself_is_neither_a_parameter_nor_set_in_the_environment():
    variables = FUNCTION["Environment"]["Variables"]

    assert variables["TWILIO_AUTH_TOKEN"] == ""
    assert variables["TWILIO_AUTH_TOKEN_PARAMETER"] == {"Ref": "AuthTokenParameterName"}
    assert not any("Token" in name and "Name" not in name for name in PARAMETERS)


def test_function_may_read_only_the_token_parameter_and_the_shared_keys_path():
    ssm_policy = FUNCTION["Policies"][0]
    grants = {s["Action"]: s["Resource"]["Fn::Sub"] for s in ssm_policy["Statement"]}
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"

    assert grants == {
        "ssm:GetParameter": arn + "${AuthTokenParameterName}",
        "ssm:GetParametersByPath": arn + "${SharedKeysPath}",
    }


def test_function_may_use_only_the_idempotency_table_and_only_when_enabled():
    condition, policy, otherwise = FUNCTION["Policies"][1]["Fn::If"]
    [statement] = policy["Statement"]

    assert condition == "IdempotencyEnabled"
    assert statement["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_idempotency_table_is_on_demand_with_expiring_records_and_on_by_default():
    table = TEMPLATE["Resources"]["IdempotencyTable"]

    assert PARAMETERS["Idempotency"]["Default"] == "Enabled"
    assert table["Condition"] == "IdempotencyEnabled"
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }
    assert FUNCTION["Environment"]["Variables"]["IDEMPOTENCY_TABLE"] == {
        "Fn::If": ["IdempotencyEnabled", {"Ref": "IdempotencyTable"}, ""]
    }


def test_conversations_are_kept_in_an_on_demand_table_that_forgets_idle_ones():
    table = TEMPLATE["Resources"]["ConversationTable"]

    assert PARAMETERS["Conversations"]["Default"] == "Enabled"
    assert PARAMETERS["ConversationTtlHours"]["Default"] == 24
    assert table["Condition"] == "ConversationsEnabled"
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    variables = FUNCTION["Environment"]["Variables"]
    assert variables["CONVERSATION_TABLE"] == {
        "Fn::If": ["ConversationsEnabled", {"Ref": "ConversationTable"}, ""]
    }
    assert variables["CONVERSATION_TTL_HOURS"] == {"Ref": "ConversationTtlHours"}


def test_function_may_read_write_and_delete_conversations_only_when_enabled():
    condition, policy, otherwise = FUNCTION["Policies"][2]["Fn::If"]
    [statement] = policy["Statement"]

    assert condition == "ConversationsEnabled"
    assert statement["Resource"] == {"Fn::GetAtt": ["ConversationTable", "Arn"]}
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_the_stage_is_throttled_by_parameters_with_safe_defaults():
    api = TEMPLATE["Resources"]["WebhookApi"]["Properties"]
    [settings] = api["MethodSettings"]

    assert api["StageName"] == "Prod"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert PARAMETERS["ThrottlingRateLimit"]["Default"] == 25
    assert PARAMETERS["ThrottlingBurstLimit"]["Default"] == 50


def test_reserved_concurrency_is_optional_and_off_by_default():
    assert PARAMETERS["ReservedConcurrency"]["Default"] == 0
    assert FUNCTION["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_webhook_url_output_is_the_prod_stage_sms_url():
    url = TEMPLATE["Outputs"]["WebhookUrl"]["Value"]["Fn::Sub"]

    assert url == "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/sms"


def test_requirements_hold_runtime_dependencies_only():
    names = {
        line.split("==")[0].strip().lower()
        for line in (PROJECT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert names == {"aws-lambda-powertools", "jmespath", "typing-extensions", "twilio"}


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


def test_status_callbacks_are_routed_and_their_url_is_an_output():
    status = {"RestApiId": {"Ref": "WebhookApi"}, "Path": "/status", "Method": "post"}

    assert {"Type": "Api", "Properties": status} in FUNCTION["Events"].values()
    assert TEMPLATE["Outputs"]["StatusCallbackUrl"]["Value"]["Fn::Sub"].endswith("/Prod/status")


def test_status_callbacks_are_on_by_default_and_can_be_turned_off():
    variable = FUNCTION["Environment"]["Variables"]["TWILIO_STATUS_CALLBACKS"]

    assert PARAMETERS["StatusCallbacks"]["Default"] == "Enabled"
    assert variable == {"Fn::If": ["StatusCallbacksEnabled", "on", "off"]}


ALARMS = {
    name: resource
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::CloudWatch::Alarm"
}


def test_alarms_watch_errors_token_failures_rejections_and_deliveries():
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in ALARMS.values()
    }

    assert watched == {
        ("AWS/Lambda", "Errors"),
        ("TwilioSmsWebhook", "TokenFetchFailures"),
        ("TwilioSmsWebhook", "SignatureRejections"),
        ("TwilioSmsWebhook", "DeliveryFailures"),
    }


def test_alarms_are_on_by_default_and_can_be_turned_off():
    assert PARAMETERS["Alarms"]["Default"] == "Enabled"
    assert {alarm["Condition"] for alarm in ALARMS.values()} == {"AlarmsEnabled"}


def test_alarms_on_the_functions_metrics_use_its_namespace_and_service():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]

    for alarm in ALARMS.values():
        properties = alarm["Properties"]
        if properties["Namespace"] != "AWS/Lambda":
            assert properties["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
            assert properties["Dimensions"] == [
                {"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}
            ]


def test_alarms_notify_an_email_through_sns_only_when_one_is_given():
    topic = TEMPLATE["Resources"]["AlarmTopic"]

    assert PARAMETERS["AlarmEmail"]["Default"] == ""
    assert topic["Condition"] == "HasAlarmEmail"
    assert topic["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    ]
    for alarm in ALARMS.values():
        assert alarm["Properties"]["AlarmActions"] == {
            "Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]
        }


def test_every_metric_an_alarm_watches_is_one_the_code_publishes():
    code = "".join(path.read_text() for path in (PROJECT / "sms_webhook").glob("*.py"))
    code += (PROJECT / "handler.py").read_text()

    for alarm in ALARMS.values():
        if alarm["Properties"]["Namespace"] != "AWS/Lambda":
            assert f'"{alarm["Properties"]["MetricName"]}"' in code


def test_snapstart_is_an_option_off_by_default_on_published_versions():
    assert PARAMETERS["SnapStart"]["Default"] == "None"
    assert PARAMETERS["SnapStart"]["AllowedValues"] == ["None", "PublishedVersions"]
    assert FUNCTION["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert FUNCTION["AutoPublishAlias"] == "live"
