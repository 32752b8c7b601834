"""Once per key: Powertools Idempotency on the deduplication table, as the webhook and the worker
both use it.

    run_once = runner(table, prefix="later-replies", expiry=RECORD_EXPIRY)
    sid = run_once("sent SM123 0", send_it, context)

`make()` runs unless the key's record says it ran; then its first result comes back instead. A
run in progress keeps the key taken until the Lambda invocation given ends (Powertools' own rule
for a handler), or, without one, until the record expires: a run cut off then never runs again.

What a record holds is stored as JSON in UTF-8: Powertools' own JSON escapes every character
past ASCII, and a Japanese character took 6 bytes of DynamoDB's 400 KB item where UTF-8 takes 3.
Imported when first used: boto3 and the DynamoDB client cost cold-start time that is only worth
paying once a request has proved to come from Twilio.
"""

import json
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

from sms_webhook import aws

RunOnce = Callable[[str, Callable[[], str], Any], str]
"""`run_once(key, make, context)`: `make()`, unless the key's record says it ran."""


@cache
def runner(table: str, *, prefix: str, expiry: int) -> RunOnce:
    """Powertools' idempotent wrapper on `table`, its keys `prefix#hash`: a prefix of our own
    keeps the records valid when this code or the function is renamed."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    class CompactRecords(DynamoDBPersistenceLayer):
        """Powertools' records, what they hold stored as `stored` says."""

        def _update_record(self, data_record: DataRecord) -> None:
            data_record.response_data = stored(json.loads(data_record.response_data))
            super()._update_record(data_record)

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=expiry)
    store = CompactRecords(table_name=table, boto3_client=aws.client("dynamodb"))
    # Powertools warns when no Lambda context says when a run in progress expires: on purpose.
    warnings.filterwarnings("ignore", "Couldn't determine the remaining time left", UserWarning)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="record", persistence_store=store, config=config, key_prefix=prefix
    )
    def once(record: dict[str, str], make: Callable[[], str]) -> str:
        return make()

    def run_once(key: str, make: Callable[[], str], context: Any) -> str:
        config.register_lambda_context(context)  # how long a run may stay in progress
        made: str = once(record={"key": key}, make=make)
        return made

    return run_once


def stored(value: object) -> str:
    """What a record holds as DynamoDB stores it: JSON in UTF-8."""
    return json.dumps(value, ensure_ascii=False)
