"""The conversation with one sender: what your handlers remember from one message to the next.

A conversation belongs to the pair of your Twilio number and the sender's address. It holds
`state`, a JSON-serialisable dict your handlers read and change, and `history`, the last messages
in and out. It is stored only when a handler asks for it (a second parameter), read at most once
and written at most once per message, with a version: when two messages from one sender are
answered at the same moment, the second write finds the version changed, and the handler runs
again on the conversation as the first left it (see `Conversations.turn`).

Where: a DynamoDB table when deployed (`CONVERSATION_TABLE`), a JSON file locally
(`CONVERSATION_FILE`, which survives a restart of `make run`). A conversation idle for
`CONVERSATION_TTL_HOURS` (default 24) is forgotten; `end()` forgets it at once.
"""

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sms_webhook import aws
from sms_webhook.config import ConversationSettings, conversation_settings
from sms_webhook.telemetry import count, logger

if TYPE_CHECKING:
    from sms_webhook.message import IncomingMessage


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, in (from the sender) or out (a reply)."""

    direction: Literal["in", "out"]
    text: str
    media: tuple[str, ...] = ()
    """The media URLs it carried."""
    at: float = 0.0
    """When, in seconds since the epoch."""


@dataclass
class Conversation:
    """What your handlers remember about one sender.

        @router.keyword("SURVEY")
        def survey(message: IncomingMessage, conversation: Conversation) -> Reply:
            conversation.state["question"] = 1
            return "Question 1: how did you hear about us?"

    Changes to `state` are saved once the handler returns. `history` holds the last messages in
    and out, oldest first, this one included. `available` is False when the store could not be
    read: the handler then sees an empty conversation, and nothing is saved.
    """

    state: dict[str, Any] = field(default_factory=dict)
    history: list[Turn] = field(default_factory=list)
    available: bool = True
    ended: bool = False

    def end(self) -> None:
        """Forget everything about this conversation once the handler returns."""
        self.state.clear()
        self.history.clear()
        self.ended = True


@dataclass(frozen=True)
class Stored:
    """A conversation as a store keeps it, with the version its next write must find."""

    state: dict[str, Any]
    history: list[Turn]
    version: int


@dataclass(frozen=True)
class Answered:
    """What the handler made of a message, in its conversation."""

    texts: tuple[str, ...]
    """The reply, a text per message."""
    kept: bool
    """Whether the message and its reply belong to the conversation: the handler that answered
    took the conversation. A message whose routing only looked at it leaves it as it was, and
    costs no write."""


class ConflictError(Exception):
    """The conversation was written by another message since it was read."""


class Store(Protocol):
    """Where conversations are kept: read one, write it if its version is unchanged, forget it."""

    def read(self, key: str) -> Stored | None: ...

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        """Write `stored` as version `stored.version + 1`; `ConflictError` when another write came
        first."""

    def forget(self, key: str) -> None: ...


def encode(stored: Stored) -> str:
    return json.dumps(
        {"state": stored.state, "history": [asdict(turn) for turn in stored.history]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text: str, version: int) -> Stored:
    data = json.loads(text)
    history = [
        Turn(turn["direction"], turn["text"], tuple(turn["media"]), turn["at"])
        for turn in data["history"]
    ]
    return Stored(data["state"], history, version)


class DynamoDBStore:
    """Conversations in a DynamoDB table keyed on `id`, with TTL on `expires_at`."""

    def __init__(self, table: str) -> None:
        self.table = table

    def read(self, key: str) -> Stored | None:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True)
            .get("Item")
        )
        if not item or int(item["expires_at"]["N"]) < time.time():
            return None
        return decode(item["data"]["S"], int(item["version"]["N"]))

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        from botocore.exceptions import ClientError

        item = {
            "id": {"S": key},
            "data": {"S": encode(stored)},
            "version": {"N": str(stored.version + 1)},
            "expires_at": {"N": str(expires_at)},
        }
        condition = "attribute_not_exists(id) OR version = :read"
        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeValues={":read": {"N": str(stored.version)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError(key) from None
            raise

    def forget(self, key: str) -> None:
        aws.client("dynamodb").delete_item(TableName=self.table, Key={"id": {"S": key}})


class FileStore:
    """Conversations in a JSON file, for local runs: no service needed, and a restart of
    `make run` keeps them. One process at a time."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)  # os.path, not pathlib: its import costs every cold start
        self._lock = threading.Lock()

    def read(self, key: str) -> Stored | None:
        with self._lock:
            entry = self._entries().get(key)
        if entry is None or entry["expires_at"] < time.time():
            return None
        return decode(entry["data"], entry["version"])

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        with self._lock:
            entries = self._entries()
            current = entries.get(key)
            if current is not None and current["version"] != stored.version:
                raise ConflictError(key)
            entries[key] = {
                "data": encode(stored),
                "version": stored.version + 1,
                "expires_at": expires_at,
            }
            self._save(entries)

    def forget(self, key: str) -> None:
        with self._lock:
            entries = self._entries()
            if entries.pop(key, None) is not None:
                self._save(entries)

    def _entries(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as stored:
                entries: dict[str, Any] = json.load(stored)
        except FileNotFoundError:
            return {}
        now = time.time()
        return {key: entry for key, entry in entries.items() if entry["expires_at"] >= now}

    def _save(self, entries: dict[str, Any]) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        partial = f"{self.path}.tmp"
        with open(partial, "w", encoding="utf-8") as written:
            json.dump(entries, written, ensure_ascii=False)
        os.replace(partial, self.path)  # a crash never leaves half a file


def conversation_key(twilio_number: str, sender: str) -> str:
    """A conversation is the pair of your Twilio number and the sender's address."""
    return f"{twilio_number} {sender}"


class Conversations:
    """The conversations of one deployment: where they are kept, for how long, how much history."""

    def __init__(self, store: Store | None, ttl_seconds: int, history_length: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.history_length = history_length

    def turn(
        self,
        message: "IncomingMessage",
        answer: Callable[[Conversation], Answered],
    ) -> tuple[str, ...]:
        """`answer(conversation)` on the sender's conversation, which is saved afterwards.

        When another message of the same sender saved it first (`ConflictError`), `answer` runs
        once more on the conversation as that message left it, so neither change is lost; if that
        conflicts too, the reply stands, the change is not saved, and it is logged and counted.
        When the store cannot be read, `answer` gets an empty conversation (`available` False)
        and nothing is saved; logged and counted too. Never an exception: the reply goes out.
        """
        key = conversation_key(message.to_number, message.from_number)
        texts: tuple[str, ...] = ()
        for attempt in range(2):
            stored = self._read(key)
            if stored is None:  # the store failed, or there is none: answer without it
                return answer(Conversation(available=False)).texts
            conversation = Conversation(
                state=json.loads(json.dumps(stored.state)),
                history=[*stored.history, _turn("in", message.body, _urls(message))][
                    -self.history_length :
                ],
            )
            answered = answer(conversation)
            texts = answered.texts
            changed = conversation.ended or conversation.state != stored.state
            if not (answered.kept or changed):
                return texts
            try:
                self._save(self.store, key, stored, conversation, texts)
            except ConflictError:
                if attempt == 0:
                    continue
                logger.warning("conversation changed by another message: this change is lost")
                count("ConversationConflicts")
            except Exception as error:  # any failure of the store: the reply still goes out
                _store_failed("write", error)
            return texts
        return texts

    def _read(self, key: str) -> Stored | None:
        if self.store is None:
            return None
        try:
            return self.store.read(key) or Stored({}, [], 0)
        except Exception as error:  # any failure of the store means the same here
            _store_failed("read", error)
            return None

    def _save(
        self,
        store: Store | None,
        key: str,
        stored: Stored,
        conversation: Conversation,
        texts: tuple[str, ...],
    ) -> None:
        if store is None:
            return
        if conversation.ended:
            store.forget(key)
            return
        history = [*conversation.history, *(_turn("out", text, ()) for text in texts)]
        saved = Stored(conversation.state, history[-self.history_length :], stored.version)
        store.write(key, saved, int(time.time()) + self.ttl_seconds)


def _urls(message: "IncomingMessage") -> tuple[str, ...]:
    return tuple(media.url for media in message.media)


def _turn(direction: Literal["in", "out"], text: str, media: tuple[str, ...]) -> Turn:
    return Turn(direction, text, media, round(time.time(), 3))


def _store_failed(operation: str, error: Exception) -> None:
    logger.error(
        "conversation store unavailable",
        extra={"operation": operation, "reason": type(error).__name__},
    )
    count("ConversationStoreFailures")


def from_environment() -> Conversations:
    """The deployment's conversations, as `config.conversation_settings` says."""
    return conversations(conversation_settings())


@cache
def conversations(settings: ConversationSettings) -> Conversations:
    """Made once per setting, as the table's client and the file's lock are."""
    store: Store | None = None
    if settings.table:
        store = DynamoDBStore(settings.table)
    elif settings.file:
        store = FileStore(settings.file)
    return Conversations(store, settings.ttl_seconds, settings.history_length)
