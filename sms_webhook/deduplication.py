"""Each message is answered once, however often it arrives, and however a copy is re-split.

Twilio may deliver a message more than once (a retry, the fallback URL, which adds `ErrorCode`
and `ErrorUrl`), and a captured request can be replayed: its signature stays valid, and stays
valid when its fields are re-split (see `signature`). So an answer is recorded, with Powertools
Idempotency on DynamoDB, under two keys: the message's `MessageSid`, and the request's signature,
which every re-split copy of one request carries unchanged. Reply code runs only for
a request neither key has been seen for; a repeat of either gets the first answer, stored for
`EXPIRY_SECONDS`. A copy that arrives while the first is still being answered gets an empty
`<Response/>`: Twilio then sends nothing more and logs no error, while the first answer goes out.

`IDEMPOTENCY_TABLE` names the table; empty turns this off. If the table cannot be reached, the
message is answered anyway (a duplicate may then be answered twice): a lost reply is worse.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sms_webhook import aws
from sms_webhook.config import idempotency_table
from sms_webhook.telemetry import count, logger

EXPIRY_SECONDS = 24 * 60 * 60


class AlreadyInProgressError(Exception):
    """Another delivery of the same message is being answered right now (the first key)."""


def answer_once(keys: Sequence[str], answer: Callable[[], str], context: Any) -> str:
    """`answer()`, run unless one of `keys` was answered before; then that first answer."""
    table = idempotency_table()
    if not table:
        return answer()

    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )

    run_once = idempotent_runner(table)
    answered: list[str] = []
    failed: list[Exception] = []

    def answer_and_keep() -> str:
        try:
            answered.append(answer())
        except Exception as error:  # Powertools may hide it behind its own, when it cannot
            failed.append(error)  # delete the record: it is re-raised below
            raise
        return answered[-1]

    def under(remaining_keys: Sequence[str]) -> str:
        """Each key's record wraps the next, so a repeat of any key is caught before the answer."""
        if not remaining_keys:
            return answer_and_keep()
        return run_once(context, {"key": remaining_keys[0]}, lambda: under(remaining_keys[1:]))

    try:
        return under(keys)
    except IdempotencyAlreadyInProgressError:
        raise AlreadyInProgressError(keys[0]) from None
    except IdempotencyPersistenceLayerError as error:
        logger.error(
            "idempotency store unavailable, answering without it",
            extra={"reason": type(error.__cause__ or error).__name__},
        )
        count("IdempotencyStoreFailures")
        if failed:  # reply code ran and failed: its own error is the answer, never a second run
            raise failed[0] from None
        return answered[0] if answered else answer()


RunOnce = Callable[[Any, dict[str, str], Callable[[], str]], str]
"""`run_once(context, record, answer)`: `answer()`, unless the record's key was answered."""


@cache
def idempotent_runner(table: str) -> RunOnce:
    """Powertools' idempotent wrapper on that table, made on first use (or before a snapshot).

    Imported here: boto3 and the DynamoDB client cost cold-start time that is only worth paying
    once a request has proved to come from Twilio.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=EXPIRY_SECONDS)
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.client("dynamodb"))

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="record", persistence_store=store, config=config
    )
    def answer_once_per_record(record: dict[str, str], answer: Callable[[], str]) -> str:
        return answer()

    def run_once(context: Any, record: dict[str, str], answer: Callable[[], str]) -> str:
        config.register_lambda_context(context)  # how long an answer may stay in progress
        answer_text: str = answer_once_per_record(record=record, answer=answer)
        return answer_text

    return run_once
