"""Lambda SnapStart: load before the snapshot what the first request would otherwise load.

With SnapStart on, Lambda initializes the function once, snapshots it, and starts every new
instance from that snapshot. What is made at initialization is then free for every instance, so
the AWS clients the first request would create (boto3 alone costs a few hundred milliseconds) are
made now. No secret is read and no connection opened before the snapshot (boto3 connects on first
use), so the snapshot holds neither, and nothing unique to an instance is made here.
"""

import os

from sms_webhook import config, deduplication


def is_snapshot_init() -> bool:
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def prime() -> None:
    if config.token_from_ssm():
        config.ssm_provider()
    if table := config.idempotency_table():
        deduplication.records(table)
