"""Threat: a deploy that fails half-way. With SnapStart on, publishing a version runs the
function's initialization, and Lambda then creates the function's default log group
(`/aws/lambda/<function name>`) on its own, racing the stack's creation of the same group."""

from pathlib import Path

from samcli.yamlhelper import yaml_parse

TEMPLATE = yaml_parse((Path(__file__).parents[2] / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
FUNCTION = RESOURCES["WebhookFunction"]["Properties"]
LOG_GROUP = RESOURCES["WebhookFunctionLogGroup"]["Properties"]


def test_the_function_logs_to_the_stacks_log_group():
    assert FUNCTION["LoggingConfig"]["LogGroup"] == {"Ref": "WebhookFunctionLogGroup"}


def test_the_log_group_is_named_without_the_function_so_it_is_made_first():
    assert "WebhookFunction" not in str(LOG_GROUP["LogGroupName"])


def test_the_log_group_keeps_30_days():
    assert LOG_GROUP["RetentionInDays"] == 30


def test_the_log_format_stays_the_lines_the_function_writes():
    assert FUNCTION["LoggingConfig"]["LogFormat"] == "Text"
