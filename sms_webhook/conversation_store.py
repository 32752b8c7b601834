"""Where conversations are kept, and one message's turn in its conversation.

Imported on the first message whose routing takes the conversation, so that replies without one
never pay for it. A turn reads the conversation once and writes it at most once, with a version:
when two messages from one sender are answered at the same moment, the second write finds the
version changed, and the handler runs again on the conversation as the first left it (a second
read and write); see `Conversations.turn`.

Where: a DynamoDB table when deployed (`CONVERSATION_TABLE`), a JSON file locally
(`CONVERSATION_FILE`, which survives a restart of `make run` and may be shared by `make run` and
`make chat`). A conversation is forgotten `CONVERSATION_TTL_HOURS` (default 24) after its last
saved change; `end()` forgets it at once.
"""

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from sms_webhook import aws, deadlines
from sms_webhook.config import ConversationSettings, conversation_settings
from sms_webhook.conversation import Conversation, Turn
from sms_webhook.local_files import open_private
from sms_webhook.telemetry import count, logger

if TYPE_CHECKING:
    from sms_webhook.message import IncomingMessage
    from sms_webhook.twiml import Text


class Stored(NamedTuple):
    """A conversation as a store keeps it: JSON texts, and the version its next write must find.

    Kept as text so that a turn encodes the state once, both to see whether it changed and to
    write it."""

    state: str
    history: str
    version: int
    """0 when nothing is stored: the first write must then find nothing there either."""


NOTHING = Stored("{}", "[]", 0)


class Answered(NamedTuple):
    """What the handler made of a message, in its conversation."""

    texts: tuple["Text", ...]
    """The reply, a text per message."""
    kept: bool
    """Whether the message and its reply belong to the conversation: the handler that answered
    took the conversation. A message whose routing only looked at it leaves it as it was, and
    costs no write."""


class ConflictError(Exception):
    """The conversation was written or forgotten by another message since it was read."""


class UnsavableStateError(Exception):
    """The state holds what JSON cannot hold as it is."""


class Store(Protocol):
    """Where conversations are kept. A write or a forget succeeds only if the version is still
    the one read (`ConflictError` otherwise), so that no message undoes another's change."""

    def read(self, key: str) -> Stored:
        """The conversation, or `NOTHING` with the version still stored when it has expired."""

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        """Write `stored` as version `stored.version + 1`."""

    def forget(self, key: str, version: int) -> None: ...


class DynamoDBStore:
    """Conversations in a DynamoDB table keyed on `id`, with TTL on `expires_at`."""

    def __init__(self, table: str) -> None:
        self.table = table

    def read(self, key: str) -> Stored:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True)
            .get("Item")
        )
        if not item:
            return NOTHING
        version = int(item["version"]["N"])
        if int(item["expires_at"]["N"]) < time.time():  # expired, not yet swept by TTL
            return NOTHING._replace(version=version)
        return Stored(item["state"]["S"], item["history"]["S"], version)

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        item = {
            "id": {"S": key},
            "state": {"S": stored.state},
            "history": {"S": stored.history},
            "version": {"N": str(stored.version + 1)},
            "expires_at": {"N": str(expires_at)},
        }
        self._conditionally("put_item", stored.version, Item=item)

    def forget(self, key: str, version: int) -> None:
        if version:
            self._conditionally("delete_item", version, Key={"id": {"S": key}})

    def _conditionally(self, operation: str, version: int, **arguments: Any) -> None:
        from botocore.exceptions import ClientError

        if version:
            condition = {
                "ConditionExpression": "version = :read",
                "ExpressionAttributeValues": {":read": {"N": str(version)}},
            }
        else:
            condition = {"ConditionExpression": "attribute_not_exists(id)"}
        try:
            getattr(aws.client("dynamodb"), operation)(
                TableName=self.table, **arguments, **condition
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError from None
            raise


class FileStore:
    """Conversations in a JSON file, for local runs: no service needed, a restart keeps them,
    and several processes (`make run`, `make chat`) may share it: each change holds a lock on a
    file beside it, and replaces the whole file at once. Both are yours alone (`local_files`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)  # os.path, not pathlib: its import costs every cold start

    def read(self, key: str) -> Stored:
        with self._locked():
            entry = self._entries().get(key)
        if entry is None:
            return NOTHING
        if entry["expires_at"] < time.time():
            return NOTHING._replace(version=entry["version"])
        return Stored(entry["state"], entry["history"], entry["version"])

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        with self._locked():
            entries = self._entries()
            self._check_version(entries, key, stored.version)
            now = time.time()
            entries = {k: entry for k, entry in entries.items() if entry["expires_at"] >= now}
            entries[key] = {
                "state": stored.state,
                "history": stored.history,
                "version": stored.version + 1,
                "expires_at": expires_at,
            }
            self._save(entries)

    def forget(self, key: str, version: int) -> None:
        with self._locked():
            entries = self._entries()
            self._check_version(entries, key, version)
            if entries.pop(key, None) is not None:
                self._save(entries)

    @staticmethod
    def _check_version(entries: dict[str, Any], key: str, version: int) -> None:
        current = entries.get(key)
        if (current["version"] if current else 0) != version:
            raise ConflictError

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The lock on the file beside the conversations (all in a folder of your own, see
        `local_files`), waited for `LOCK_WAIT` seconds at most: a change holds it for
        milliseconds, so a longer wait means a process stuck while holding it."""
        lock = open_private(f"{self.path}.lock", os.O_RDWR | os.O_CREAT)
        try:
            deadline = time.monotonic() + LOCK_WAIT
            while not self._lock_now(lock):
                if time.monotonic() >= deadline:
                    logger.error(
                        "conversation file locked by another process: a make run, make chat or "
                        "test stuck? Stopping it releases the lock",
                        extra={"file": f"{self.path}.lock", "waited_seconds": LOCK_WAIT},
                    )
                    raise LockTimeoutError(f"{self.path}.lock held for {LOCK_WAIT} s")
                time.sleep(LOCK_RETRY)
            yield
        finally:
            os.close(lock)  # which releases the lock

    @staticmethod
    def _lock_now(descriptor: int) -> bool:
        """Whether the lock was free, and is now this process's."""
        import fcntl  # local runs only, as tempfile

        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _entries(self) -> dict[str, Any]:
        try:
            descriptor = open_private(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        try:
            with open(descriptor, encoding="utf-8") as stored:
                entries: dict[str, Any] = json.load(stored)
        except ValueError:
            logger.error(
                "conversation file unreadable: delete it to start afresh",
                extra={"file": self.path},
            )
            raise
        return entries

    def _save(self, entries: dict[str, Any]) -> None:
        """The whole file replaced at once: a crash never leaves half of it. The new one is made
        by `mkstemp` (0600, never through a link), and replacing a link replaces the link."""
        import tempfile  # local runs only: the deployed function never pays for it

        directory = os.path.dirname(self.path) or "."
        descriptor, partial = tempfile.mkstemp(dir=directory, prefix=".conversations-")
        try:
            with open(descriptor, "w", encoding="utf-8") as written:
                json.dump(entries, written, ensure_ascii=False)
            os.replace(partial, self.path)
        except BaseException:
            os.unlink(partial)
            raise


LOCK_WAIT = 2.0
"""Seconds a change waits for the local file's lock before it gives up (`LockTimeoutError`):
the message is then answered without its conversation, as when a table cannot be reached."""
LOCK_RETRY = 0.01
"""Seconds between two tries of the lock."""


class LockTimeoutError(Exception):
    """Another process held the local file's lock for `LOCK_WAIT` seconds."""


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
        *,
        again_on_conflict: bool = True,
    ) -> tuple["Text", ...]:
        """`answer(conversation)` on the sender's conversation, which is saved afterwards.

        When another message of the same sender saved it first (`ConflictError`), `answer` runs
        once more on the conversation as that message left it, so neither change is lost; if that
        conflicts too, the reply stands, the change is not saved, and it is logged and counted.
        When the store cannot be read, `answer` gets an empty conversation (`available` False)
        and nothing is saved; logged and counted too. Never an exception: the reply goes out.
        """
        key = conversation_key(message.to_number, message.from_number)
        stored = self._read(self.store, key) if self.store else None
        if self.store is None or stored is None:  # none, or it failed: answer without it
            return answer(Conversation(available=False)).texts
        media = tuple(media.url for media in message.media)
        conversation = Conversation(
            state=json.loads(stored.state),
            history=self._last([*_turns(stored.history), _turn("in", message.body, media)]),
        )
        with deadlines.reply_code():  # the writes below get a window of their own after it
            answered = answer(conversation)
        try:
            self._save(self.store, key, stored, conversation, answered)
        except ConflictError:
            if again_on_conflict:
                return self.turn(message, answer, again_on_conflict=False)
            logger.warning("conversation changed by another message: this change is lost")
            count("ConversationConflicts")
        except UnsavableStateError as error:
            logger.error(
                "conversation state not saved: JSON cannot hold it", extra={"reason": str(error)}
            )
        except Exception as error:  # any failure of the store: the reply still goes out
            _store_failed("write", error)
        return answered.texts

    @staticmethod
    def _read(store: Store, key: str) -> Stored | None:
        try:
            return store.read(key)
        except Exception as error:  # any failure of the store means the same here
            _store_failed("read", error)
            return None

    def _save(
        self, store: Store, key: str, stored: Stored, conversation: Conversation, answered: Answered
    ) -> None:
        if conversation.ended:
            store.forget(key, stored.version)
            return
        state = _state_json(conversation.state)
        if not answered.kept and state == stored.state:
            return
        _check_it_reads_back(state, conversation.state)
        replies = [_turn("out", text.body, tuple(text.media)) for text in answered.texts]
        history = self._last([*conversation.history, *replies])
        encoded = json.dumps([turn._asdict() for turn in history], ensure_ascii=False)
        store.write(
            key, Stored(state, encoded, stored.version), int(time.time()) + self.ttl_seconds
        )

    def _last(self, history: list[Turn]) -> list[Turn]:
        return history[-self.history_length :] if self.history_length else []


def _state_json(state: dict[str, Any]) -> str:
    """The state as it is stored, the same text for the same state."""
    try:
        return json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise UnsavableStateError(str(error)) from None


def _check_it_reads_back(encoded: str, state: dict[str, Any]) -> None:
    """JSON quietly turns a tuple into a list and a number key into a string: the next message
    would then find another state than the one this handler left."""
    if json.loads(encoded) != state:
        raise UnsavableStateError("it would read back changed (a tuple, a key that is no string)")


def _turns(history: str) -> list[Turn]:
    return [
        Turn(turn["direction"], turn["text"], tuple(turn["media"]), turn["at"])
        for turn in json.loads(history)
    ]


def _turn(direction: Literal["in", "out"], text: str, media: tuple[str, ...] = ()) -> Turn:
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
    """Made once per setting, as the table's client is."""
    store: Store | None = None
    if settings.table:
        store = DynamoDBStore(settings.table)
    elif settings.file:
        store = FileStore(settings.file)
    return Conversations(store, settings.ttl_seconds, settings.history_length)
