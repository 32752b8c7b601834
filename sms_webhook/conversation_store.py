"""Where conversations are kept, and one message's turn in its conversation.

Imported on the first message whose routing takes the conversation, so that replies without one
never pay for it. A turn reads the conversation once and writes it at most once, with a version.
When messages from one sender are answered at the same moment (a WhatsApp album comes as ten
webhooks at once), all but one find the version changed when they write. Each of those then waits
for the conversation's turn: it takes a lease on it that no other message writes through, and
its handler runs once more on the conversation as the messages before left it; see
`Conversations.turn`.

A conversation is one item, of at most `MAX_ITEM_BYTES` as DynamoDB counts it, locally too: what
does not fit is trimmed, oldest first, and a state too large to fit alone is not saved (see
`fitted`). It remembers the last `TAKEN_MESSAGES` messages it took, with their replies, so that
a message is applied once whatever retries it: a second turn for it gets the first reply.

Where: a DynamoDB table when deployed (`CONVERSATION_TABLE`), a JSON file locally
(`CONVERSATION_FILE`, which survives a restart of `make run` and may be shared by `make run` and
`make chat`). A conversation is forgotten `CONVERSATION_TTL_HOURS` (default 24) after its last
saved change; `end()` forgets it at once.
"""

import json
import os
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from datetime import UTC, datetime
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from sms_webhook import aws, deadlines, origin
from sms_webhook.config import ConversationSettings, conversation_settings
from sms_webhook.conversation import Conversation, Expectation, Turn, conversation_key
from sms_webhook.jobs import Job, NotScheduledError, TimerJob
from sms_webhook.local_files import locked, read_json, replace_with_json
from sms_webhook.telemetry import count, logger
from sms_webhook.twiml import Text

if TYPE_CHECKING:
    from sms_webhook.message import IncomingMessage

MAX_ITEM_BYTES = 400_000
"""The largest conversation, in bytes as DynamoDB counts an item (`item_bytes`). DynamoDB takes
400 KB (409,600 bytes); the rest is a margin for its rule for numbers, which it calls
approximate."""
TAKEN_MESSAGES = 10
"""How many of the last messages a conversation took it remembers, with their replies."""
LEASE_SECONDS = deadlines.REPLY_TIME + deadlines.SAVE_WINDOW
"""How long a message waiting for its turn holds the conversation once it has it: the time its
handler has, and the write after it. One that dies holding it keeps the others waiting that long
at most."""
FIRST_PAUSE = 0.02
"""Seconds a message waiting for its turn pauses at most before it asks again, twice as long after
each ask: a random pause (full jitter), so that messages waiting together ask apart."""
LONGEST_PAUSE = 0.4
"""The longest pause between two asks for the turn."""
ONE_ATTEMPT = aws.PATIENCE["dynamodb"].connect + aws.PATIENCE["dynamodb"].read
"""The longest a DynamoDB call may take: the time a write needs, at worst."""


class Stored(NamedTuple):
    """A conversation as a store keeps it: JSON texts, and what its next write must find.

    Kept as text so that a turn encodes the state once, both to see whether it changed and to
    write it."""

    state: str
    history: str
    version: int
    """0 when nothing is stored: the first write must then find nothing there either."""
    taken: str = "[]"
    """The messages it took, oldest first: `[sid, reply]`, the reply as `[[body, [media]], ...]`,
    or null when it was too large to keep."""
    lease: str | None = None
    """The turn this message holds on the conversation (`Store.take_turn`): the write must find
    it still held, instead of the version."""
    expecting: str = ""
    """The question waiting for an answer (`Conversation.expect`): `[id, otherwise, due]`, or
    empty."""
    keep_until: int = 0
    """Not forgotten before then, whatever its TTL: a timer that will visit it is due then."""


NOTHING = Stored("{}", "[]", 0)

Item = dict[str, dict[str, str]]
"""A DynamoDB item, in the low-level client's form: `{"id": {"S": "..."}, ...}`."""


class Answered(NamedTuple):
    """What the handler made of a message, in its conversation."""

    texts: tuple[Text, ...]
    """The reply, a text per message."""
    kept: bool
    """Whether the message and its reply belong to the conversation: the handler that answered
    took the conversation. A message whose routing only looked at it leaves it as it was, and
    costs no write."""
    answered: bool = True
    """False for a message whose handler runs later: the worker's run takes it into the
    conversation, history and all (this turn only voided the question it answers)."""


class ConflictError(Exception):
    """The conversation was written or forgotten by another message since it was read, or
    another message holds its turn."""


class StoreFailedError(Exception):
    """The store failed while a message waited for its conversation's turn (logged, counted)."""


class UnsavableStateError(Exception):
    """The state holds what JSON cannot hold as it is."""


class TooLargeError(Exception):
    """The state, with the ids of the messages taken, does not fit in an item: not even with no
    history and no replies."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size
        """The smallest item the conversation makes, in bytes."""


class Store(Protocol):
    """Where conversations are kept. A write or a forget succeeds only if the conversation is
    still as read: the same version and nobody holding its turn, or the turn still held by the
    message writing (`ConflictError` otherwise), so that no message undoes another's change."""

    def read(self, key: str) -> Stored:
        """The conversation, or `NOTHING` with the version still stored when it has expired."""

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        """Write `stored` as version `stored.version + 1`, which frees its turn."""

    def forget(self, key: str, stored: Stored) -> None:
        """Forget the conversation read as `stored`, which frees its turn."""

    def take_turn(self, key: str, lease: str, until: float) -> Stored | None:
        """Hold the conversation's turn as `lease` until `until` (seconds since the epoch),
        unless another message holds it now: the conversation then, or None."""


def dynamodb_item(key: str, stored: Stored, expires_at: int) -> Item:
    """The conversation as the table keeps it: its size is the size that counts, locally too."""
    item = {
        "id": {"S": key},
        "state": {"S": stored.state},
        "history": {"S": stored.history},
        "taken": {"S": stored.taken},
        "version": {"N": str(stored.version + 1)},
        "expires_at": {"N": str(expires_at)},
    }
    if stored.expecting:  # a conversation without timers has neither attribute
        item["expecting"] = {"S": stored.expecting}
    if stored.keep_until:
        item["keep_until"] = {"N": str(stored.keep_until)}
    return item


def item_bytes(item: Item) -> int:
    """An item's size as DynamoDB counts it: each attribute's name and its value, in UTF-8
    bytes; a number takes a byte per two significant digits, and one more."""
    size = 0
    for name, value in item.items():
        [(kind, text)] = value.items()
        if kind == "N":
            digits = text.lstrip("-").replace(".", "").strip("0")  # zeros around are trimmed
            size += 1 + (len(digits) + 1) // 2
        else:
            size += _utf8_bytes(text)
        size += _utf8_bytes(name)
    return size


def _utf8_bytes(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate counts, never fails


class DynamoDBStore:
    """Conversations in a DynamoDB table keyed on `id`, with TTL on `expires_at`. A message
    holding a conversation's turn is named on its item (`lease`, until `lease_until`)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def read(self, key: str) -> Stored:
        item = self._item(key)
        return _from_item(item) if item else NOTHING

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        item = dynamodb_item(key, stored, expires_at)
        self._conditionally("put_item", stored, Item=item)

    def forget(self, key: str, stored: Stored) -> None:
        if stored.version or stored.lease:
            self._conditionally("delete_item", stored, Key={"id": {"S": key}})

    def take_turn(self, key: str, lease: str, until: float) -> Stored | None:
        """A read, and when nobody holds the turn, the item written back as it was with the
        lease, on the condition that it is still so: the calls the table's policy allows for a
        write (`PutItem`), and a message waiting for its turn asks with reads."""
        item = self._item(key) or {"id": {"S": key}, "expires_at": {"N": str(int(until) + 1)}}
        if float(item.get("lease_until", {"N": "0"})["N"]) >= time.time():
            return None
        read = _from_item(item)
        held = {**item, "lease": {"S": lease}, "lease_until": {"N": f"{until:.3f}"}}
        try:
            self._conditionally("put_item", read, Item=held)
        except ConflictError:  # another message took it, or wrote, since the read
            return None
        return read._replace(lease=lease)

    def _item(self, key: str) -> Item | None:
        item: Item | None = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True)
            .get("Item")
        )
        return item

    def _conditionally(self, operation: str, stored: Stored, **arguments: Any) -> None:
        from botocore.exceptions import ClientError

        if stored.lease:
            condition = "lease = :lease"
            values = {":lease": {"S": stored.lease}}
        else:
            version = "version = :read" if stored.version else "attribute_not_exists(version)"
            condition = f"{version} AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            values = {":now": {"N": f"{time.time():.3f}"}}
            if stored.version:
                values[":read"] = {"N": str(stored.version)}
        try:
            getattr(aws.client("dynamodb"), operation)(
                TableName=self.table,
                **arguments,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError from None
            raise


def _from_item(item: Item) -> Stored:
    """The conversation an item holds; an item that holds only a lease holds none."""
    version = int(item["version"]["N"]) if "version" in item else 0
    if "state" not in item or int(item["expires_at"]["N"]) < time.time():  # TTL not swept yet
        return NOTHING._replace(version=version)
    taken = item.get("taken", {"S": "[]"})["S"]
    expecting = item.get("expecting", {"S": ""})["S"]
    keep_until = int(item.get("keep_until", {"N": "0"})["N"])
    return Stored(
        item["state"]["S"],
        item["history"]["S"],
        version,
        taken,
        expecting=expecting,
        keep_until=keep_until,
    )


class FileStore:
    """Conversations in a JSON file, for local runs: no service needed, a restart keeps them,
    and several processes (`make run`, `make chat`) may share it: each change holds a lock on a
    file beside it, and replaces the whole file at once. Both are yours alone (`local_files`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)  # os.path, not pathlib: its import costs every cold start

    def read(self, key: str) -> Stored:
        with self._locked():
            entry = self._entries().get(key)
        return _from_entry(entry) if entry else NOTHING

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        with self._locked():
            entries = self._entries()
            self._check_turn(entries, key, stored)
            now = time.time()
            entries = {k: entry for k, entry in entries.items() if _lasts(entry, now)}
            entries[key] = {
                "state": stored.state,
                "history": stored.history,
                "taken": stored.taken,
                "version": stored.version + 1,
                "expires_at": expires_at,
                **({"expecting": stored.expecting} if stored.expecting else {}),
                **({"keep_until": stored.keep_until} if stored.keep_until else {}),
            }
            self._save(entries)

    def forget(self, key: str, stored: Stored) -> None:
        with self._locked():
            entries = self._entries()
            self._check_turn(entries, key, stored)
            if entries.pop(key, None) is not None:
                self._save(entries)

    def take_turn(self, key: str, lease: str, until: float) -> Stored | None:
        with self._locked():
            entries = self._entries()
            entry = entries.get(key) or {"version": 0, "expires_at": int(until) + 1}
            if _leased(entry):
                return None
            entry = {**entry, "lease": lease, "lease_until": until}
            entries[key] = entry
            self._save(entries)
        return _from_entry(entry)._replace(lease=lease)

    @staticmethod
    def _check_turn(entries: dict[str, Any], key: str, stored: Stored) -> None:
        current = entries.get(key) or {"version": 0}
        if stored.lease:
            if current.get("lease") != stored.lease:
                raise ConflictError
        elif current["version"] != stored.version or _leased(current):
            raise ConflictError

    def _locked(self) -> AbstractContextManager[None]:
        return locked(self.path, "conversation file")

    def _entries(self) -> dict[str, Any]:
        try:
            entries: dict[str, Any] = read_json(self.path) or {}
        except ValueError:
            logger.error(
                "conversation file unreadable: delete it to start afresh",
                extra={"file": self.path},
            )
            raise
        return entries

    def _save(self, entries: dict[str, Any]) -> None:
        replace_with_json(self.path, entries)


def _from_entry(entry: dict[str, Any]) -> Stored:
    """The conversation an entry of the file holds; an entry that holds only a lease holds none."""
    if "state" not in entry or entry["expires_at"] < time.time():
        return NOTHING._replace(version=entry["version"])
    return Stored(
        entry["state"],
        entry["history"],
        entry["version"],
        entry.get("taken", "[]"),
        expecting=entry.get("expecting", ""),
        keep_until=entry.get("keep_until", 0),
    )


def _leased(entry: dict[str, Any]) -> bool:
    """Whether a message holds the entry's turn now."""
    return bool(entry.get("lease_until", 0) >= time.time())


def _lasts(entry: dict[str, Any], now: float) -> bool:
    """Whether an entry is still kept: not expired, or its turn held."""
    return bool(max(entry["expires_at"], entry.get("lease_until", 0)) >= now)


class Visit(NamedTuple):
    """What comes to a conversation: a message, or a timer going off (`sms_webhook/timers.py`)."""

    key: str
    sid: str
    """What the conversation remembers it by (`taken`): a message's sid, a timer's key."""
    person: str
    """The sender's address: whom the conversation is with."""
    number: str
    """The Twilio number, as the person's messages name it."""
    incoming: Turn | None = None
    """The message, as the history keeps it; None for a timer."""
    waits_for: str | None = None
    """For a question's deadline: the expectation it belongs to. The visit is void unless the
    conversation still waits for it."""


def message_visit(message: "IncomingMessage") -> Visit:
    media = tuple(media.url for media in message.media)
    return Visit(
        conversation_key(message.to_number, message.from_number),
        message.sid,
        message.from_number,
        message.to_number,
        incoming=_turn("in", message.body, media),
    )


TIMER_MARGIN = 60 * 60
"""Seconds a conversation a timer will visit (a reminder with a handler, a question's deadline)
is kept past the timer's time, however short its TTL: long enough for the Scheduler's and the
worker's retries."""


class Run(NamedTuple):
    """One run of a handler on a conversation, and whether its write found the conversation
    changed by another message."""

    texts: tuple[Text, ...]
    conflicted: bool
    seconds: float
    """How long the handler took."""


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
    ) -> tuple[Text, ...]:
        """`answer(conversation)` on the sender's conversation: see `visit`."""
        return self.visit(message_visit(message), answer)

    def visit(self, visit: Visit, answer: Callable[[Conversation], Answered]) -> tuple[Text, ...]:
        """`answer(conversation)` on the sender's conversation, which is saved afterwards.

        When another message of the same sender saved it first (`ConflictError`), this message
        waits for the conversation's turn, then `answer` runs once more on the conversation as
        the messages before left it, so that no change is lost; a handler too slow to hold the
        others back that long (`LEASE_SECONDS`) runs once more without waiting. Should that run
        not end before its answer is due (`deadlines.seconds_to_answer`: Twilio's wait, or the
        worker's invocation) or conflict too, the reply stands, the change is
        not saved, and it is logged and counted. A message the conversation has taken already
        gets its first reply, and changes nothing. When the store cannot be read, `answer` gets
        an empty conversation (`available` False) and nothing is saved; logged and counted too.
        The store's failures raise nothing: the reply goes out. What the handler raises is raised,
        and so is a deadline it set that could not be (`NotScheduledError`): nothing is saved.

        A deadline's visit (`waits_for`) to a conversation that no longer waits for it (the
        answer came, the conversation moved on or ended) is void: no answer, nothing saved,
        logged and counted. One whose change could not be saved raises instead: the answer may
        have come meanwhile, and the worker tries the job again.
        """
        key = visit.key
        stored = self._read(self.store, key) if self.store else None
        if self.store is None or stored is None:  # none, or it failed: answer without it
            if visit.waits_for is not None:  # whether it still waits cannot be known
                raise StoreFailedError
            return answer(Conversation(available=False)).texts
        run = self._apply(self.store, visit, answer, stored)
        if not run.conflicted:
            return run.texts
        try:
            again = self._next_turn(self.store, key, run.seconds)
        except StoreFailedError:  # logged and counted as such: no conflict to count too
            if visit.waits_for is not None:
                raise
            return run.texts
        if again is not None:
            run = self._apply(self.store, visit, answer, again)
            if not run.conflicted:
                return run.texts
        logger.warning("conversation changed by another message: this change is lost")
        count("ConversationConflicts")
        if visit.waits_for is not None:  # its answer may have come meanwhile: tried again later
            raise ConflictError
        return run.texts

    @staticmethod
    def _read(store: Store, key: str) -> Stored | None:
        try:
            return store.read(key)
        except Exception as error:  # any failure of the store means the same here
            _store_failed("read", error)
            return None

    def _apply(
        self,
        store: Store,
        visit: Visit,
        answer: Callable[[Conversation], Answered],
        stored: Stored,
    ) -> Run:
        """The handler's run on the conversation as stored, and its write; for a message the
        conversation took already, its first reply, and no run; for a void deadline, nothing."""
        key, taken = visit.key, _taken(stored.taken)
        lapsed = stored.keep_until <= time.time()  # as none: it needs no write of its own
        read = stored._replace(keep_until=0) if lapsed else stored
        change = None
        if visit.sid in taken:
            logger.info("message already taken by its conversation: its first reply again")
            conversation = Conversation(state=json.loads(stored.state))
            answered, seconds = Answered(taken[visit.sid] or (), kept=False), 0.0
        elif visit.waits_for is not None and _expectation_id(stored.expecting) != visit.waits_for:
            logger.info("deadline void: an answer came, or the conversation moved on or ended")
            count("DeadlinesVoid")
            conversation = Conversation(state=json.loads(stored.state))
            answered, seconds = Answered((), kept=False), 0.0
        else:
            incoming = [visit.incoming] if visit.incoming else []
            conversation = Conversation(
                state=json.loads(stored.state),
                history=self._last([*_turns(stored.history), *incoming]),
                expecting=_expectation(stored.expecting),
            )
            run = partial(_answer_and_wait, visit, answer)
            with origin.noting_timers() as set_here:
                answered, seconds = self._run(store, key, read, run, conversation)
            after = read._replace(
                expecting=_expecting(visit, conversation, stored.expecting),
                keep_until=_kept_for(visit, set_here, read.keep_until),
            )
            record = [*taken.items(), *([(visit.sid, answered.texts)] if answered.answered else [])]
            change = self._changed(
                key,
                read,
                after,
                conversation,
                answered,
                taken=record,
                expires_at=self._expiry(after.keep_until),
            )
        conflicted = self._save(store, visit, read, conversation.ended, change)
        return Run(answered.texts, conflicted=conflicted, seconds=seconds)

    def _save(
        self, store: Store, visit: Visit, read: Stored, ended: bool, change: Stored | None
    ) -> bool:
        """The visit's change written, or the conversation forgotten, or its turn given back;
        whether another message changed it first (`ConflictError`). A store's failure is
        logged, and the reply still goes out, but for a deadline's visit: unsaved, it could
        cross an answer (`StoreFailedError`). A question the visit voided has its deadline
        withdrawn: it then costs no run."""
        try:
            if ended:
                store.forget(visit.key, read)
            elif change is not None:
                store.write(visit.key, change, self._expiry(change.keep_until))
            elif read.lease:  # nothing to save: the turn goes back as it came
                _give_back(store, visit.key, read, self._expiry(read.keep_until))
        except ConflictError:
            return True
        except Exception as error:  # any failure of the store
            _store_failed("write", error)
            if visit.waits_for is not None:
                raise StoreFailedError from None
            return False
        waiting = "" if ended else (change or read).expecting
        voided = _expectation_id(read.expecting)
        if voided is not None and voided not in (visit.waits_for, _expectation_id(waiting)):
            _withdraw(voided)
        return False

    def _expiry(self, keep_until: int) -> int:
        """When a conversation written now is forgotten: its TTL from now, or later for a timer
        that will visit it."""
        return max(int(time.time()) + self.ttl_seconds, keep_until)

    def _run(
        self,
        store: Store,
        key: str,
        stored: Stored,
        answer: Callable[[Conversation], Answered],
        conversation: Conversation,
    ) -> tuple[Answered, float]:
        """The handler's answer, and the seconds it took (on the request's clock). A handler that
        raises while this message holds the conversation's turn gives it back first: the
        sender's other messages would wait for it otherwise."""
        started = deadlines.seconds_since_arrival()
        try:
            with deadlines.reply_code():  # the writes after it get a window of their own
                answered = answer(conversation)
        except BaseException:
            if stored.lease:
                try:
                    _give_back(store, key, stored, self._expiry(stored.keep_until))
                except Exception as error:  # the lease then lapses by itself
                    _store_failed("write", error)
            raise
        return answered, deadlines.seconds_since_arrival() - started

    def _changed(
        self,
        key: str,
        read: Stored,
        stored: Stored,
        conversation: Conversation,
        answered: Answered,
        *,
        taken: list[tuple[str, tuple[Text, ...] | None]],
        expires_at: int,
    ) -> Stored | None:
        """The conversation to write (`stored`: as `read`, with the timers it now waits for),
        with the last `TAKEN_MESSAGES` of the messages `taken`, fitted to an item; None when
        there is nothing to write, or what there is cannot be written (logged)."""
        if conversation.ended:
            return None
        try:
            state = _state_json(conversation.state)
            timers_kept = (stored.expecting, stored.keep_until) == (read.expecting, read.keep_until)
            if not answered.kept and state == stored.state and timers_kept:
                return None
            _check_it_reads_back(state, conversation.state)
        except UnsavableStateError as error:
            logger.error(
                "conversation state not saved: JSON cannot hold it", extra={"reason": str(error)}
            )
            return None
        replies = [_turn("out", text.body, tuple(text.media)) for text in answered.texts]
        history = (
            self._last([*conversation.history, *replies])
            if answered.answered
            else _turns(read.history)
        )
        last_taken = taken[max(0, len(taken) - TAKEN_MESSAGES) :]
        try:
            return fitted(key, stored._replace(state=state), history, last_taken, expires_at)
        except TooLargeError as error:
            logger.error(
                "conversation too large: its change is not saved",
                extra={"bytes": error.size, "limit": MAX_ITEM_BYTES},
            )
            count("ConversationTooLarge")
            return None

    def _next_turn(self, store: Store, key: str, seconds: float) -> Stored | None:
        """The conversation to run the handler on once more, after another message changed
        it: with its turn held, once it comes; as it is now for a handler too slow to hold the
        turn. None when no run could end in time; `StoreFailedError` when the store failed."""
        if not _time_for_another_run(seconds):
            return None
        if seconds + ONE_ATTEMPT > LEASE_SECONDS:
            now = self._read(store, key)
            if now is None:
                raise StoreFailedError
            return now
        lease = os.urandom(8).hex()
        longest = FIRST_PAUSE
        while True:
            asked = deadlines.seconds_since_arrival()
            try:
                held = store.take_turn(key, lease, time.time() + LEASE_SECONDS)
            except Exception as error:  # as for a write: the reply still goes out
                _store_failed("take_turn", error)
                raise StoreFailedError from None
            if held is not None:
                return held
            deadlines.sleep(random.uniform(0, longest))  # noqa: S311 (spreading asks, not a secret)
            # An answer "not yet" is no outage: the time for AWS calls moves with the wait.
            deadlines.extend(deadlines.seconds_since_arrival() - asked)
            longest = min(longest * 2, LONGEST_PAUSE)
            if not _time_for_another_run(seconds):
                return None

    def _last(self, history: list[Turn]) -> list[Turn]:
        return history[-self.history_length :] if self.history_length else []


def _answer_and_wait(
    visit: Visit, answer: Callable[[Conversation], Answered], conversation: Conversation
) -> Answered:
    """The handler's answer, and the deadline of the question it asked set (`Conversation.expect`):
    before the conversation is saved, so that no conversation waits for a deadline never set."""
    answered = answer(conversation)
    if conversation.expected and not conversation.ended:
        from sms_webhook import timers  # only for a conversation that waits

        answering = origin.current() or origin.Origin("", "", None)
        otherwise, due = conversation.expected
        expectation = timers.expectation_id(visit.key, visit.sid, otherwise)
        job = TimerJob(
            visit.person,
            visit.number,
            otherwise,
            f"deadline {expectation}",
            answering.account_sid,
            answering.sender,
            answering.status_callback,
            expectation=expectation,
            queued_at=int(due.timestamp()),
        )
        timers.start(timers.deadline_name(expectation), job)
    return answered


def _kept_for(visit: Visit, set_here: list[Job], keep_until: int) -> int:
    """Until when the conversation is kept: until the timers set for it so far have gone off,
    and a margin for retries."""
    visiting = [
        job.queued_at + TIMER_MARGIN
        for job in set_here
        if isinstance(job, TimerJob) and (job.number, job.to) == (visit.number, visit.person)
    ]
    return max([keep_until, *visiting])


def _expecting(visit: Visit, conversation: Conversation, was: str) -> str:
    """What the conversation waits for once this visit is over, as it is stored: the question
    this visit asked; else none, since a message or the deadline came; but a reminder's visit
    leaves a question waiting as it was."""
    if conversation.ended:
        return ""
    if conversation.expected is None:
        return was if visit.incoming is None and visit.waits_for is None else ""
    from sms_webhook.timers import expectation_id

    otherwise, due = conversation.expected
    return _json([expectation_id(visit.key, visit.sid, otherwise), otherwise, due.timestamp()])


def _withdraw(expectation: str) -> None:
    """Withdraw the deadline of a question no longer waiting; one that cannot be (logged where it
    failed) goes off into a conversation that no longer waits for it, and is void."""
    from sms_webhook import timers

    with suppress(NotScheduledError):  # logged and counted where it failed
        timers.stop(timers.deadline_name(expectation))


def _expectation_id(expecting: str) -> str | None:
    return str(json.loads(expecting)[0]) if expecting else None


def _expectation(expecting: str) -> Expectation | None:
    if not expecting:
        return None
    _, otherwise, due = json.loads(expecting)
    return Expectation(str(otherwise), datetime.fromtimestamp(float(due), UTC))


def _time_for_another_run(seconds: float) -> bool:
    """Whether the handler, if it runs again now as long as it just did, and the write after it
    end before the answer is due (Twilio's wait; the worker's invocation)."""
    if deadlines.seconds_left() < ONE_ATTEMPT:  # no AWS call may start now
        return False
    return seconds + ONE_ATTEMPT <= deadlines.seconds_to_answer()


def _give_back(store: Store, key: str, stored: Stored, expires_at: int) -> None:
    """Free the turn without a change; a conversation that holds nothing goes with it."""
    if stored._replace(version=0, lease=None) == NOTHING:
        store.forget(key, stored)
    else:
        store.write(key, stored, expires_at)


def fitted(
    key: str,
    stored: Stored,
    history: list[Turn],
    taken: list[tuple[str, tuple[Text, ...] | None]],
    expires_at: int,
) -> Stored:
    """The conversation with this state, history and record of messages taken (this one's
    last), as an item of at most `MAX_ITEM_BYTES`: what fits is kept in this order, this
    message's reply, the history from its newest message back, the replies of earlier messages
    from the newest back; the oldest are left out first. The state and the messages' ids are
    always kept: `TooLargeError` when they do not fit.
    """
    turns = [_json(turn._asdict()) for turn in history]
    entries = [_json([sid, _reply_json(texts)]) for sid, texts in taken]
    bare = [f"[{_json(sid)},null]" for sid, _ in taken]
    smallest = stored._replace(history="[]", taken=_listed(bare))
    room = MAX_ITEM_BYTES - item_bytes(dynamodb_item(key, smallest, expires_at))
    if room < 0:
        raise TooLargeError(MAX_ITEM_BYTES - room)
    extras = [_utf8_bytes(entries[i]) - _utf8_bytes(bare[i]) for i in reversed(range(len(taken)))]
    room, reply_kept = _keep(room, extras[:1])
    room, turns_kept = _keep(room, [_utf8_bytes(turn) + 1 for turn in reversed(turns)], first=-1)
    _, earlier_kept = _keep(room, extras[1:] if reply_kept else [])
    with_reply = len(taken) - earlier_kept - reply_kept
    return stored._replace(
        history=_listed(turns[len(turns) - turns_kept :]),
        taken=_listed([*bare[:with_reply], *entries[with_reply:]]),
    )


def _keep(room: int, sizes: list[int], first: int = 0) -> tuple[int, int]:
    """How many of `sizes`, taken in order, fit in `room` (the first one is `first` bytes
    larger or smaller: a list's first element has no comma), and the room left after them."""
    kept = 0
    for size in sizes:
        size += first if kept == 0 else 0
        if size > room:
            break
        room -= size
        kept += 1
    return room, kept


def _listed(encoded: list[str]) -> str:
    return f"[{','.join(encoded)}]"


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""Compact JSON, the same text for the same value (one encoder: `json.dumps` makes one a call)."""


def _reply_json(texts: tuple[Text, ...] | None) -> list[list[object]] | None:
    return None if texts is None else [[text.body, list(text.media)] for text in texts]


def _taken(encoded: str) -> dict[str, tuple[Text, ...] | None]:
    """The messages a conversation took, oldest first, each with its reply (None: not kept)."""
    return {
        sid: None if reply is None else tuple(Text(body, tuple(media)) for body, media in reply)
        for sid, reply in json.loads(encoded)
    }


def _state_json(state: dict[str, Any]) -> str:
    """The state as it is stored, the same text for the same state."""
    try:
        return _json(state)
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
