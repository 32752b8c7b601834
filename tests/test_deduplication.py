"""Each answer recorded once under each of its keys: a repeat of any key gets the first answer."""

import boto3
import pytest

from devtools.lambda_context import LambdaContext
from sms_webhook import aws
from sms_webhook.deduplication import AlreadyInProgressError, answer_once
from tests.conftest import IDEMPOTENCY_TABLE


def counting(answers: list[str]):
    """An answer that says how many times it was made."""

    def answer() -> str:
        answers.append(f"answer {len(answers) + 1}")
        return answers[-1]

    return answer


def test_without_a_table_every_call_answers():
    made: list[str] = []

    results = [answer_once(("SM1",), counting(made), LambdaContext()) for _ in range(2)]

    assert results == ["answer 1", "answer 2"]


def test_a_repeated_key_gets_the_first_answer(idempotency_table):
    made: list[str] = []

    results = [answer_once(("SM1", "sig"), counting(made), LambdaContext()) for _ in range(2)]

    assert (results, made) == (["answer 1", "answer 1"], ["answer 1"])


def test_records_are_keyed_as_the_first_releases_keyed_them(idempotency_table, monkeypatch):
    """A message answered before a deploy stays known after it: its retry or replay is caught."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stack-WebhookFunction-abc")
    answer_once(("SM1",), counting([]), LambdaContext())

    [item] = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert item["id"]["S"].startswith(
        "stack-WebhookFunction-abc.sms_webhook.deduplication.idempotent_runner.<locals>"
        ".answer_once_per_record#"
    )


@pytest.mark.parametrize("repeated", [("SM1", "other signature"), ("SM2", "signature")])
def test_a_repeat_of_either_key_gets_the_first_answer(idempotency_table, repeated):
    made: list[str] = []
    answer_once(("SM1", "signature"), counting(made), LambdaContext())

    assert answer_once(repeated, counting(made), LambdaContext()) == "answer 1"


def test_new_keys_get_a_new_answer(idempotency_table):
    made: list[str] = []
    answer_once(("SM1", "signature 1"), counting(made), LambdaContext())

    assert answer_once(("SM2", "signature 2"), counting(made), LambdaContext()) == "answer 2"


def test_a_key_being_answered_makes_a_copy_wait_for_nothing(idempotency_table):
    copies: list[BaseException] = []

    def answer_while_a_copy_arrives() -> str:
        try:
            answer_once(("SM1", "signature"), lambda: "copy", LambdaContext())
        except AlreadyInProgressError as error:
            copies.append(error)
        return "first"

    assert answer_once(("SM1", "signature"), answer_while_a_copy_arrives, LambdaContext()) == (
        "first"
    )
    assert [str(error) for error in copies] == ["SM1"]


def test_an_answer_that_raised_is_not_recorded(idempotency_table):
    def failing() -> str:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        answer_once(("SM1", "signature"), failing, LambdaContext())

    assert answer_once(("SM1", "signature"), lambda: "fixed", LambdaContext()) == "fixed"


def test_an_answer_that_raised_is_not_made_again_when_its_record_cannot_be_cleared(
    idempotency_table,
):
    made: list[str] = []

    def failing() -> str:
        made.append("attempt")
        raise RuntimeError("the booking system is down")

    def cannot_delete(**_: object) -> None:
        raise ConnectionError("DynamoDB did not answer")

    aws.client("dynamodb").meta.events.register("before-send.dynamodb.DeleteItem", cannot_delete)

    with pytest.raises(RuntimeError):
        answer_once(("SM1", "signature"), failing, LambdaContext())

    assert made == ["attempt"]
