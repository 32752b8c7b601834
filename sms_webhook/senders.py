"""What is known of each sender of each of your numbers, beyond a conversation: their consent,
and when they last wrote on WhatsApp.

One record per pair of your number and the sender (keyed as a conversation is,
`conversation.conversation_key`). Deployed it is an item of the DynamoDB table
`SENDERS_TABLE` (template.yaml's `SendersTable`); in a local run an entry of a JSON file
(`config.senders_file`), yours alone (`local_files`). Its own table rather than the
conversations': those may be turned off, and their items are forgotten 24 hours after the last
message, while an opt-out must last.

- `read` (and `opted_out`): one consistent GetItem (a text about to be sent asks);
- `record_consent`: one UpdateItem (an opt-out or opt-in message, a 21610 from Twilio). An
  opted-out record has no `expires_at`: it is never forgotten. An opted-in one is kept `KEPT`
  seconds, as a trace for whoever looks; no record means opted in too.
- `record_whatsapp_message`: one UpdateItem (each message to a WhatsApp number of yours): when
  the person last wrote, which opens WhatsApp's 24-hour window (`whatsapp_window`). Kept `KEPT`
  seconds too, and never written on an opted-out record, whose lack of `expires_at` it would undo.

A store that fails is logged and counted (`SendersStoreFailures`), and `SendersUnavailableError`
raised: each caller decides what it means for its message.
"""

import time
from contextlib import AbstractContextManager, suppress
from typing import Any, NamedTuple, Protocol

from sms_webhook import aws
from sms_webhook.config import auth_tokens, senders_file, senders_table
from sms_webhook.conversation import conversation_key
from sms_webhook.telemetry import count, logger, pseudonym

KEPT = 7 * 24 * 60 * 60
"""Seconds a record that holds no opt-out is kept after its last change: an opt-in (no record is
opted in too: it shows whoever reads the table that the sender came back), and a WhatsApp
window's last message, which counts for 24 hours only."""


class Sender(NamedTuple):
    """What is kept of one person who texts one of your numbers."""

    opted_out: bool = False
    last_message_at: float | None = None
    """When they last wrote to your WhatsApp number (seconds since the epoch); None when not in
    the last `KEPT` seconds, or on another channel."""


class SendersUnavailableError(Exception):
    """The senders' store could not be read or written (logged and counted where it failed)."""


class Store(Protocol):
    """Where the records are kept, keyed on "<your number> <sender>"."""

    def read(self, key: str) -> Sender: ...

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool: ...

    def record_message(self, key: str, at: float) -> None: ...


def sender_key(number: str, person: str) -> str:
    """The record of `person`, who texts your `number` (a conversation's key, too)."""
    return conversation_key(number, person)


def read(number: str, person: str) -> Sender | None:
    """What is kept of `person`, who texts your `number` (`Sender()` when nothing of them is);
    None where nothing is kept (a stack from a template without the senders' table)."""
    store = _store()
    if store is None:
        return None
    try:
        return store.read(sender_key(number, person))
    except Exception as error:  # unreachable, throttled, no permission, an unreadable file
        raise _failed("read", error) from None


def opted_out(number: str, person: str) -> bool:
    """Whether `person` opted out of texts from your `number`: False when nothing is kept."""
    kept = read(number, person)
    return kept is not None and kept.opted_out


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


def record_whatsapp_message(number: str, person: str, at: float) -> None:
    """`person` wrote to your WhatsApp `number` at `at`: their window is open for 24 hours from
    then. Nothing for whoever opted out: no text may go to them anyway."""
    store = _store()
    if store is None:
        return
    try:
        store.record_message(sender_key(number, person), at)
    except Exception as error:
        raise _failed("write", error) from None


def forget_locally(number: str, person: str) -> None:
    """A local run's record of `person` dropped, as if they had never texted your `number` (the
    phone's `forget`, `make chat`'s `/reset`): their STOP, their WhatsApp window."""
    path = senders_file()
    if path and not senders_table():
        FileStore(path).forget(sender_key(number, person))


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

    def read(self, key: str) -> Sender:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                ConsistentRead=True,
                ProjectionExpression="opted_out, last_message_at",
            )
            .get("Item", {})
        )
        last = item.get("last_message_at", {}).get("N")
        return Sender(
            bool(item.get("opted_out", {}).get("BOOL", False)),
            float(last) if last is not None else None,
        )

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool:
        from botocore.exceptions import ClientError

        now = int(time.time())
        values: dict[str, Any] = {":out": {"BOOL": opted_out}, ":now": {"N": str(now)}}
        if opted_out:
            update = "SET opted_out = :out, consent_at = :now REMOVE expires_at"
        else:
            update = "SET opted_out = :out, consent_at = :now, expires_at = :until"
            values[":until"] = {"N": str(now + KEPT)}
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
            if _condition_failed(error):
                return False
            raise
        return True

    def record_message(self, key: str, at: float) -> None:
        from botocore.exceptions import ClientError

        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                UpdateExpression="SET last_message_at = :at, expires_at = :until",
                ConditionExpression="attribute_not_exists(opted_out) OR opted_out = :no",
                ExpressionAttributeValues={
                    ":at": {"N": str(round(at, 3))},
                    ":until": {"N": str(int(at) + KEPT)},
                    ":no": {"BOOL": False},
                },
            )
        except ClientError as error:
            if not _condition_failed(error):  # failed: they opted out
                raise


def _condition_failed(error: Any) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


class FileStore:
    """The records in a JSON file, replaced whole at each change, under the file's lock: `make
    run` answers on threads, and two WhatsApp messages may come at once."""

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self, key: str) -> Sender:
        entry = self._entries().get(key, {})
        return Sender(bool(entry.get("opted_out", False)), entry.get("last_message_at"))

    def record_consent(self, key: str, opted_out: bool, only_if_opted_out: bool) -> bool:
        with self._changing() as entries:
            entry = entries.get(key, {})
            if only_if_opted_out and not entry.get("opted_out", False):
                return False
            entry = {**entry, "opted_out": opted_out, "consent_at": int(time.time())}
            entry.pop("expires_at", None)
            if not opted_out:
                entry["expires_at"] = int(time.time()) + KEPT
            entries[key] = entry
        return True

    def record_message(self, key: str, at: float) -> None:
        with self._changing() as entries:
            entry = entries.get(key, {})
            if not entry.get("opted_out", False):
                entries[key] = {**entry, "last_message_at": at, "expires_at": int(at) + KEPT}

    def forget(self, key: str) -> None:
        with self._changing() as entries:
            entries.pop(key, None)

    def _changing(self) -> AbstractContextManager[dict[str, Any]]:
        from sms_webhook.local_files import changing

        return changing(self.path, "senders file", time.time())

    def _entries(self) -> dict[str, Any]:
        from sms_webhook.local_files import read_json

        entries: dict[str, Any] = read_json(self.path) or {}
        return entries
