"""Once per key (`sms_webhook/idempotency.py`): Powertools Idempotency on the deduplication table
(moto), as the webhook and the worker both use it."""

import boto3
import pytest

from sms_webhook.idempotency import runner
from tests.conftest import IDEMPOTENCY_TABLE

pytestmark = pytest.mark.usefixtures("idempotency_table")


def once(prefix: str = "tests"):
    return runner(IDEMPOTENCY_TABLE, prefix=prefix, expiry=60)


def test_a_key_runs_once_and_gives_back_its_first_result():
    runs: list[str] = []

    def run(result: str) -> str:
        runs.append(result)
        return result

    first = once()("k", lambda: run("first"), None)
    second = once()("k", lambda: run("second"), None)

    assert (first, second, runs) == ("first", "first", ["first"])


def test_one_key_under_two_prefixes_is_two_records():
    assert once("webhook")("k", lambda: "answer", None) == "answer"
    assert once("later-replies")("k", lambda: "sent", None) == "sent"


def test_a_record_is_keyed_by_its_prefix():
    once("webhook")("k", lambda: "answer", None)

    [item] = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert item["id"]["S"].startswith("webhook#")


def test_a_record_holds_its_result_in_utf8():
    once()("k", lambda: "日本語の返事", None)

    [item] = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert item["data"]["S"] == '"日本語の返事"'
