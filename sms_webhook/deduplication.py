"""Each message is answered once, however often it arrives.

Twilio may deliver a message more than once (a retry, the fallback URL), and a captured request
can be replayed: its signature stays valid. With Powertools Idempotency on DynamoDB, keyed on
the message's `MessageSid`, the reply code runs for the first delivery only; a repeat gets the
first answer, stored for `EXPIRY_SECONDS`. A copy that arrives while the first is still being
answered gets an empty `<Response/>`: Twilio then sends nothing more, and no error is logged at
Twilio, while the first delivery's answer goes out.

`IDEMPOTENCY_TABLE` names the table; empty turns this off. If the table cannot be reached, the
message is answered anyway (a duplicate may then be answered twice): a lost reply is worse.
"""

import os
from collections.abc import Callable
from functools import cache

from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import count, logger

EXPIRY_SECONDS = 24 * 60 * 60


class AlreadyInProgressError(Exception):
    """Another delivery of the same message is being answered right now."""


def answer_once(message: IncomingMessage, answer: Callable[[IncomingMessage], str], context) -> str:
    """`answer(message)`, run once per MessageSid; the stored first answer for repeats."""
    table = os.environ.get("IDEMPOTENCY_TABLE")
    if not table or not message.sid:
        return answer(message)

    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )

    config, run_once = prepare(table)
    config.register_lambda_context(context)
    answered = []

    def answer_and_keep(message: IncomingMessage) -> str:
        answered.append(answer(message))
        return answered[-1]

    try:
        return run_once(message=message, answer=answer_and_keep)
    except IdempotencyAlreadyInProgressError:
        raise AlreadyInProgressError(message.sid) from None
    except IdempotencyPersistenceLayerError as error:
        logger.error(
            "idempotency store unavailable, answering without it",
            extra={"reason": type(error.__cause__ or error).__name__, "message_sid": message.sid},
        )
        count("IdempotencyStoreFailures")
        return answered[0] if answered else answer(message)


@cache
def prepare(table: str):
    """Powertools' idempotent wrapper on that table, made on first use (or before a snapshot).

    Imported here: boto3 and the DynamoDB client cost cold-start time that is only worth paying
    once a request has proved to come from Twilio.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from botocore.config import Config

    quick = Config(
        connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 2}
    )
    config = IdempotencyConfig(event_key_jmespath="sid", expires_after_seconds=EXPIRY_SECONDS)
    store = DynamoDBPersistenceLayer(table_name=table, boto_config=quick)

    @idempotent_function(data_keyword_argument="message", persistence_store=store, config=config)
    def run_once(message: IncomingMessage, answer: Callable[[IncomingMessage], str]) -> str:
        return answer(message)

    return config, run_once
