"""template.yaml deploys what the README promises, and SAM's own linter accepts it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse

from sms_webhook import deadlines
from tests.conftest import TOKEN_PARAMETER

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = yaml_parse((PROJECT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
FUNCTION = RESOURCES["WebhookFunction"]["Properties"]
WORKER = RESOURCES["LaterRepliesFunction"]["Properties"]
QUEUE = RESOURCES["LaterRepliesQueue"]["Properties"]
DEAD_LETTER_QUEUE = RESOURCES["LaterRepliesDeadLetterQueue"]["Properties"]
SCHEDULER_ROLE = RESOURCES["SchedulerRole"]["Properties"]
PARAMETERS = TEMPLATE["Parameters"]
SSM_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


def test_function_runs_the_handler_on_python_3_13():
    assert FUNCTION["Handler"] == "handler.lambda_handler"
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.13"


def test_architecture_is_a_parameter_defaulting_to_arm64():
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert PARAMETERS["Architecture"]["Default"] == "arm64"
    assert PARAMETERS["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]


def test_the_webhooks_timeout_is_the_one_its_request_clock_counts_on():
    assert FUNCTION["Timeout"] == deadlines.WEBHOOK_TIMEOUT


@pytest.mark.usefixtures("real_deadlines")
def test_the_webhooks_timeout_holds_each_part_of_a_request_at_its_slowest():
    slowest = deadlines.AWS_BUDGET + deadlines.REPLY_TIME + deadlines.SAVE_WINDOW
    assert FUNCTION["Timeout"] >= slowest + deadlines.ANSWER_MARGIN


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

    assert grants == {
        "ssm:GetParameter": SSM_ARN + "${AuthTokenParameterName}",
        "ssm:GetParametersByPath": SSM_ARN + "${SharedKeysPath}",
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


CONSENT_GRANTS = {
    ("dynamodb:GetItem", "SendersTable.Arn", None),
    ("dynamodb:UpdateItem", "SendersTable.Arn", None),
}
"""What consent needs of the senders' table: a read before a text is sent, a write for a STOP."""


def test_senders_are_kept_in_an_encrypted_on_demand_table_that_forgets_only_what_expires():
    table = RESOURCES["SendersTable"]

    assert "Condition" not in table
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_both_functions_know_the_senders_table_and_may_only_read_and_update_its_items():
    for function in (FUNCTION, WORKER):
        assert function["Environment"]["Variables"]["SENDERS_TABLE"] == {"Ref": "SendersTable"}
        senders = {grant for grant in grants(function) if grant[1] == "SendersTable.Arn"}
        assert senders == CONSENT_GRANTS


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


@pytest.mark.slow
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


def test_smart_encoding_is_off_by_default_and_set_for_both_functions_when_on():
    variable = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["SMART_ENCODING"]

    assert PARAMETERS["SmartEncoding"]["Default"] == "Disabled"
    assert PARAMETERS["SmartEncoding"]["AllowedValues"] == ["Enabled", "Disabled"]
    assert TEMPLATE["Conditions"]["SmartEncodingEnabled"] == {
        "Fn::Equals": [{"Ref": "SmartEncoding"}, "Enabled"]
    }
    assert variable == {"Fn::If": ["SmartEncodingEnabled", "on", "off"]}


def test_the_loop_guard_is_on_by_default_its_limits_parameters_of_the_webhook():
    variables = FUNCTION["Environment"]["Variables"]

    assert PARAMETERS["LoopGuard"]["Default"] == "Enabled"
    assert PARAMETERS["LoopGuard"]["AllowedValues"] == ["Enabled", "Disabled"]
    assert TEMPLATE["Conditions"]["LoopGuardEnabled"] == {
        "Fn::Equals": [{"Ref": "LoopGuard"}, "Enabled"]
    }
    assert variables["LOOP_GUARD"] == {"Fn::If": ["LoopGuardEnabled", "on", "off"]}
    for parameter, variable, default in [
        ("LoopIdenticalTexts", "LOOP_IDENTICAL_TEXTS", 3),
        ("LoopTextsPerMinute", "LOOP_TEXTS_PER_MINUTE", 10),
    ]:
        assert (PARAMETERS[parameter]["Default"], PARAMETERS[parameter]["MinValue"]) == (default, 1)
        assert variables[variable] == {"Ref": parameter}


ALARMS = {
    name: resource
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::CloudWatch::Alarm"
}


def test_alarms_watch_errors_token_failures_rejections_deliveries_and_the_later_replies():
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in ALARMS.values()
    }

    assert watched == {
        ("AWS/Lambda", "Errors"),
        ("TwilioSmsWebhook", "TokenFetchFailures"),
        ("TwilioSmsWebhook", "SignatureRejections"),
        ("TwilioSmsWebhook", "DeliveryFailures"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
    }


def test_alarms_are_on_by_default_and_can_be_turned_off():
    assert PARAMETERS["Alarms"]["Default"] == "Enabled"
    assert {alarm["Condition"] for alarm in ALARMS.values()} == {"AlarmsEnabled"}


def test_alarms_on_the_functions_metrics_use_its_namespace_and_service():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]

    for alarm in ALARMS.values():
        properties = alarm["Properties"]
        if not properties["Namespace"].startswith("AWS/"):
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
        if not alarm["Properties"]["Namespace"].startswith("AWS/"):
            assert f'"{alarm["Properties"]["MetricName"]}"' in code


def test_snapstart_is_an_option_off_by_default_on_published_versions():
    assert PARAMETERS["SnapStart"]["Default"] == "None"
    assert PARAMETERS["SnapStart"]["AllowedValues"] == ["None", "PublishedVersions"]
    assert FUNCTION["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert FUNCTION["AutoPublishAlias"] == "live"


def resource_name(resource: dict) -> str:
    """A policy's resource as the template writes it: an ARN pattern, or `Logical.Arn`."""
    return resource["Fn::Sub"] if "Fn::Sub" in resource else ".".join(resource["Fn::GetAtt"])


def grants(function: dict) -> set[tuple[str, str, str | None]]:
    """Every (action, resource, condition) the function's policies allow; no Deny, and a
    conditional policy grants nothing otherwise."""
    granted = set()
    for entry in function["Policies"]:
        condition, policy, otherwise = entry.get("Fn::If", (None, entry, None))
        assert otherwise in (None, {"Ref": "AWS::NoValue"})
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                granted.add((action, resource_name(statement["Resource"]), condition))
    return granted


SCHEDULES_OF_THE_GROUP = (
    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ScheduleGroup}/*"
)
TIMERS_GRANTS = {
    ("scheduler:CreateSchedule", SCHEDULES_OF_THE_GROUP, None),
    ("scheduler:DeleteSchedule", SCHEDULES_OF_THE_GROUP, None),
    ("iam:PassRole", "SchedulerRole.Arn", None),
}
"""What setting and withdrawing a timer needs, in the webhook and in the worker alike."""
TIMERS_VARIABLES = {
    "SCHEDULE_GROUP": {"Ref": "ScheduleGroup"},
    "SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
    "LATER_QUEUE_ARN": {"Fn::GetAtt": ["LaterRepliesQueue", "Arn"]},
    "DEAD_LETTER_QUEUE_ARN": {"Fn::GetAtt": ["LaterRepliesDeadLetterQueue", "Arn"]},
}
"""What a timer's schedule names: its group, its role, its target and its dead-letter queue."""


def test_the_worker_runs_the_later_replies_handler_with_five_minutes_per_job():
    assert WORKER["Handler"] == "handler.later_replies_handler"
    assert WORKER["Timeout"] == 300
    assert RESOURCES["LaterRepliesFunction"]["Metadata"] == {"BuildMethod": "makefile"}


def test_the_worker_may_read_the_token_the_api_key_when_set_the_tables_and_its_queue_only():
    idempotency = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"]
    conversations = ["GetItem", "PutItem", "DeleteItem"]
    queue = ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility"]
    queue += ["SendMessage"]  # a later handler may send_text

    assert grants(WORKER) == {
        *TIMERS_GRANTS,
        ("ssm:GetParameter", SSM_ARN + "${AuthTokenParameterName}", None),
        ("ssm:GetParameter", SSM_ARN + "${ApiKeyParameterName}", "HasApiKey"),
        *{(f"dynamodb:{a}", "IdempotencyTable.Arn", "IdempotencyEnabled") for a in idempotency},
        *{
            (f"dynamodb:{a}", "ConversationTable.Arn", "ConversationsEnabled")
            for a in conversations
        },
        *{(f"sqs:{action}", "LaterRepliesQueue.Arn", None) for action in queue},
        *CONSENT_GRANTS,
    }


def test_the_api_key_is_read_only_when_its_parameter_is_named():
    assert PARAMETERS["ApiKeyParameterName"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasApiKey"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiKeyParameterName"}, ""]}]
    }


def test_the_webhook_may_only_send_to_the_later_replies_queue_of_sqs():
    sqs = {grant for grant in grants(FUNCTION) if grant[0].startswith("sqs:")}

    assert sqs == {("sqs:SendMessage", "LaterRepliesQueue.Arn", None)}


def test_both_functions_know_the_queue_and_may_have_a_local_outbox_declared_empty():
    for function in (FUNCTION, WORKER):
        variables = function["Environment"]["Variables"]
        assert variables["LATER_QUEUE_URL"] == {"Ref": "LaterRepliesQueue"}
        assert variables["OUTBOX_FILE"] == ""


def test_the_worker_has_the_webhooks_tables_and_settings_and_what_sending_needs():
    webhook = FUNCTION["Environment"]["Variables"]
    shared = ["TWILIO_AUTH_TOKEN_PARAMETER", "TWILIO_AUTH_TOKEN", "REPLY_MESSAGE"]
    shared += ["IDEMPOTENCY_TABLE", "CONVERSATION_TABLE", "CONVERSATION_TTL_HOURS", "SENDERS_TABLE"]
    shared += ["CONVERSATION_FILE", "LATER_QUEUE_URL", "OUTBOX_FILE", *TIMERS_VARIABLES]

    assert WORKER["Environment"]["Variables"] == {
        **{name: webhook[name] for name in shared},
        "TWILIO_API_KEY_PARAMETER": {"Ref": "ApiKeyParameterName"},
        "TWILIO_ACCOUNT_SID": {"Ref": "TwilioAccountSid"},
        "SEND_FROM": {"Ref": "SendFrom"},
    }


@pytest.mark.parametrize(
    ("parameter", "accepted", "refused"),
    [
        ("SendFrom", ["", "+14155550100", "MG" + "0" * 32], ["14155550100", "whatsapp:+1415"]),
        ("TwilioAccountSid", ["", "AC" + "a1" * 16], ["AC123", "SK" + "0" * 32]),
        ("ApiKeyParameterName", ["", "/twilio/api-key"], ["twilio/api-key", "/a b"]),
    ],
)
def test_sending_parameters_are_optional_and_checked_when_given(parameter, accepted, refused):
    pattern = PARAMETERS[parameter]["AllowedPattern"]

    assert PARAMETERS[parameter]["Default"] == ""
    assert [value for value in accepted if re.fullmatch(pattern, value)] == accepted
    assert [value for value in refused if re.fullmatch(pattern, value)] == []


def test_the_queue_hands_the_worker_one_job_at_a_time_reporting_its_failure():
    mapping = RESOURCES["LaterRepliesEventSource"]

    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"] == {
        "FunctionName": {"Ref": "LaterRepliesFunction"},
        "EventSourceArn": {"Fn::GetAtt": ["LaterRepliesQueue", "Arn"]},
        "BatchSize": 1,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }


def test_sam_attaches_no_policy_of_its_own_for_the_queue():
    """An SQS event would have SAM attach AWSLambdaSQSQueueExecutionRole (every queue)."""
    assert [e for e in WORKER.get("Events", {}).values() if e["Type"] == "SQS"] == []


def test_a_job_that_failed_five_times_goes_to_the_dead_letter_queue():
    assert QUEUE["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["LaterRepliesDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }


@pytest.mark.parametrize("queue", [QUEUE, DEAD_LETTER_QUEUE], ids=["queue", "dead-letter queue"])
def test_queues_are_encrypted_at_rest(queue):
    assert queue["SqsManagedSseEnabled"] is True


def test_a_job_is_not_handed_out_again_while_a_worker_may_still_run_it():
    assert QUEUE["VisibilityTimeout"] >= 6 * WORKER["Timeout"]


def test_the_dead_letter_queue_keeps_jobs_for_14_days_longer_than_the_queue():
    assert DEAD_LETTER_QUEUE["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert QUEUE.get("MessageRetentionPeriod", 4 * 24 * 3600) < 14 * 24 * 3600


@pytest.mark.parametrize(
    ("name", "queue", "threshold"),
    [
        ("LaterRepliesDeadLetterAlarm", "LaterRepliesDeadLetterQueue", 1),  # a job there
        ("LaterRepliesQueueAgeAlarm", "LaterRepliesQueue", 3600),  # a job an hour old there
    ],
)
def test_an_alarm_fires_when_later_replies_are_stuck(name, queue, threshold):
    alarm = ALARMS[name]["Properties"]

    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        threshold,
        "GreaterThanOrEqualToThreshold",
    )


def test_the_worker_logs_to_a_log_group_of_its_own_kept_30_days():
    log_group = RESOURCES["LaterRepliesFunctionLogGroup"]["Properties"]

    assert WORKER["LoggingConfig"] == {
        "LogGroup": {"Ref": "LaterRepliesFunctionLogGroup"},
        "LogFormat": "Text",
    }
    assert log_group["RetentionInDays"] == 30
    assert (
        log_group["LogGroupName"]
        != RESOURCES["WebhookFunctionLogGroup"]["Properties"]["LogGroupName"]
    )


def test_the_queues_urls_and_the_dead_letter_queues_arn_are_outputs():
    outputs = TEMPLATE["Outputs"]

    assert outputs["LaterRepliesQueueUrl"]["Value"] == {"Ref": "LaterRepliesQueue"}
    assert outputs["LaterRepliesDeadLetterQueueUrl"]["Value"] == {
        "Ref": "LaterRepliesDeadLetterQueue"
    }
    assert outputs["LaterRepliesDeadLetterQueueArn"]["Value"] == {
        "Fn::GetAtt": ["LaterRepliesDeadLetterQueue", "Arn"]
    }


def test_each_stack_has_a_schedule_group_of_its_own_named_after_it():
    group = RESOURCES["ScheduleGroup"]

    assert group["Type"] == "AWS::Scheduler::ScheduleGroup"
    assert group["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-timers"}


def test_only_the_scheduler_may_assume_its_role_for_this_accounts_schedules_of_the_group():
    [statement] = SCHEDULER_ROLE["AssumeRolePolicyDocument"]["Statement"]

    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {
                "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                "aws:SourceArn": {"Fn::GetAtt": ["ScheduleGroup", "Arn"]},
            }
        },
    }


def test_the_schedulers_role_may_only_send_to_the_queue_and_its_dead_letter_queue():
    """The target, and where a schedule puts a job it could not deliver; nothing managed."""
    statements = [
        statement
        for policy in SCHEDULER_ROLE["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]

    assert "ManagedPolicyArns" not in SCHEDULER_ROLE
    assert {s["Effect"] for s in statements} == {"Allow"}
    assert {(s["Action"], resource_name(s["Resource"])) for s in statements} == {
        ("sqs:SendMessage", "LaterRepliesQueue.Arn"),
        ("sqs:SendMessage", "LaterRepliesDeadLetterQueue.Arn"),
    }


@pytest.mark.parametrize("function", [FUNCTION, WORKER], ids=["webhook", "worker"])
def test_both_functions_may_set_and_withdraw_timers_only_in_the_stacks_group(function):
    set_and_withdraw = {g for g in grants(function) if g[0].split(":")[0] in ("scheduler", "iam")}

    assert set_and_withdraw == TIMERS_GRANTS


@pytest.mark.parametrize("function", [FUNCTION, WORKER], ids=["webhook", "worker"])
def test_both_functions_may_pass_the_schedulers_role_to_the_scheduler_only(function):
    [statement] = [
        statement
        for policy in function["Policies"]
        for statement in policy.get("Statement", [])
        if statement["Action"] == "iam:PassRole"
    ]

    assert statement["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


@pytest.mark.parametrize("function", [FUNCTION, WORKER], ids=["webhook", "worker"])
def test_both_functions_know_the_group_role_queue_and_dead_letter_queue_of_a_timer(function):
    variables = function["Environment"]["Variables"]

    assert {name: variables[name] for name in TIMERS_VARIABLES} == TIMERS_VARIABLES
