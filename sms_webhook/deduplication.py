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

import os
from collections.abc import Callable, Sequence
from typing import Any

from sms_webhook.config import idempotency_table
from sms_webhook.idempotency import RunOnce, runner
from sms_webhook.telemetry import count, logger

EXPIRY_SECONDS = 24 * 60 * 60
FIRST_RECORDS_FUNCTION = (
    "sms_webhook.deduplication.idempotent_runner.<locals>.answer_once_per_record"
)
"""Where the first releases kept their records' keys: under Powertools' default prefix, the Lambda
function's name and this function's. Kept, so that a message answered before a deploy is still
known after it (a retry, a replay of a captured request): a new prefix would forget them all."""


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

    run_once = records(table)
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
        return run_once(remaining_keys[0], lambda: under(remaining_keys[1:]), context)

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


def records(table: str) -> RunOnce:
    """The webhook's records on that table, made on first use (or before a snapshot)."""
    return runner(table, prefix=key_prefix(), expiry=EXPIRY_SECONDS)


def key_prefix() -> str:
    """`<function name>.<FIRST_RECORDS_FUNCTION>`, as Powertools made it by default."""
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "test-func")
    return f"{function}.{FIRST_RECORDS_FUNCTION}"
