"""What is known of each sender of each of your numbers, beyond a conversation: their consent.

One record per pair of your number and the sender (keyed as a conversation is,
`conversation_store.conversation_key`). Deployed it is an item of the DynamoDB table
`SENDERS_TABLE` (template.yaml's `SendersTable`); in a local run an entry of a JSON file
(`config.senders_file`), yours alone (`local_files`). Its own table rather than the
conversations': those may be turned off, and their items are forgotten 24 hours after the last
message, while an opt-out must last. Other per-sender facts (WhatsApp's window, a loop's recent
messages) are attributes of the same item; whoever sets `expires_at` leaves an opted-out item
without one.

- `opted_out`: one consistent GetItem (a text about to be sent asks);
- `record_consent`: one UpdateItem (an opt-out or opt-in message, a 21610 from Twilio). An
  opted-out record has no `expires_at`: it is never forgotten. An opted-in one is kept
  `OPTED_IN_KEPT` seconds, as a trace for whoever looks; no record means opted in too.

A store that fails is logged and counted (`SendersStoreFailures`), and `SendersUnavailableError`
raised: each caller decides what it means for its message.
"""

import time
from contextlib import suppress
from typing import Any, Protocol

from sms_webhook import aws
from sms_webhook.config import auth_tokens, senders_file, senders_table
from sms_webhook.telemetry import count, logger, pseudonym

OPTED_IN_KEPT = 7 * 24 * 60 * 60
"""Seconds the record of an opt-in is kept: nothing depends on it (no record is opted in too),
it shows whoever reads the table that the sender came back."""


class SendersUnavailableError(Exception):
    """The senders' store could not be read or written (logged and counted where it failed)."""


class Store(Protocol):
    """Where the records are kept, keyed on "<your number> <sender>"."""

    def opted_out(self, key: str) -> bool: ...

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool: ...


def sender_key(number: str, person: str) -> str:
    """The record of `person`, who texts your `number` (a conversation's key, too)."""
    from sms_webhook.conversation_store import conversation_key

    return conversation_key(number, person)


def opted_out(number: str, person: str) -> bool:
    """Whether `person` opted out of texts from your `number`: False when nothing is kept."""
    store = _store()
    if store is None:
        return False
    try:
        return store.opted_out(sender_key(number, person))
    except Exception as error:  # unreachable, throttled, no permission, an unreadable file
        raise _failed("read", error) from None


def record_consent(
    number: str, person: str, opted_out: bool, *, only_if_opted_out: bool = False
) -> bool:
    """Remember that `person` opted out of your `number`'s texts (or back in); with
    `only_if_opted_out`, an opt-in only if they had opted out. Whether it was recorded (False:
    nowhere to keep it, or an opt-in from someone who had not opted out)."""
    store = _store()
    if store is None:
        return False
    try:
        return store.record_consent(sender_key(number, person), opted_out, only_if_opted_out)
    except Exception as error:
        raise _failed("write", error) from None


def opted_out_at_twilio(sender: str, to: str) -> None:
    """Twilio refused a text to `to` as unsubscribed (21610): remembered, so that the next one is
    refused before it is queued. A Messaging Service's sid names no number to key it on: then
    Twilio's own refusal stands alone. A store out of reach is logged and counted."""
    if sender.startswith("MG"):
        return
    with suppress(SendersUnavailableError):  # said where it failed
        record_consent(sender, to, opted_out=True)


def recipient(address: str) -> str:
    """Whom a text goes to as logs show senders: a pseudonym keyed on the auth token, never the
    number."""
    try:
        secret = auth_tokens()[0]
    except Exception:  # a pseudonym keyed on nothing secret could be reversed: none
        return "unknown"
    return pseudonym(address, secret)


def _store() -> Store | None:
    table = senders_table()
    if table:
        return DynamoDBStore(table)
    path = senders_file()
    return FileStore(path) if path else None


def _failed(operation: str, error: Exception) -> SendersUnavailableError:
    logger.error(
        "senders store unavailable", extra={"operation": operation, "reason": type(error).__name__}
    )
    count("SendersStoreFailures")
    return SendersUnavailableError(type(error).__name__)


class DynamoDBStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def opted_out(self, key: str) -> bool:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                ConsistentRead=True,
                ProjectionExpression="opted_out",
            )
            .get("Item", {})
        )
        return bool(item.get("opted_out", {}).get("BOOL", False))

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool:
        from botocore.exceptions import ClientError

        now = int(time.time())
        values: dict[str, Any] = {":out": {"BOOL": opted_out}, ":now": {"N": str(now)}}
        if opted_out:
            update = "SET opted_out = :out, consent_at = :now REMOVE expires_at"
        else:
            update = "SET opted_out = :out, consent_at = :now, expires_at = :until"
            values[":until"] = {"N": str(now + OPTED_IN_KEPT)}
        condition: dict[str, str] = {}
        if only_if_opted_out:
            condition = {"ConditionExpression": "opted_out = :was"}
            values[":was"] = {"BOOL": True}
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                UpdateExpression=update,
                ExpressionAttributeValues=values,
                **condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


class FileStore:
    """The records in a JSON file, replaced whole at each change. Without a lock: a change comes
    with a STOP or START typed on this machine, and two at the same instant are not expected."""

    def __init__(self, path: str) -> None:
        self.path = path

    def opted_out(self, key: str) -> bool:
        return bool(self._entries().get(key, {}).get("opted_out", False))

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool:
        from sms_webhook.local_files import replace_with_json

        now = int(time.time())
        entries = {
            name: entry
            for name, entry in self._entries().items()
            if entry.get("expires_at", now) >= now
        }
        if only_if_opted_out and not entries.get(key, {}).get("opted_out", False):
            return False
        entry: dict[str, Any] = {"opted_out": opted_out, "consent_at": now}
        if not opted_out:
            entry["expires_at"] = now + OPTED_IN_KEPT
        entries[key] = entry
        replace_with_json(self.path, entries)
        return True

    def _entries(self) -> dict[str, Any]:
        from sms_webhook.local_files import read_json

        entries: dict[str, Any] = read_json(self.path) or {}
        return entries
