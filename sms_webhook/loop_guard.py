"""The loop guard: no reply to a sender who looks like a machine caught in a loop with this bot.

Two auto-responders answering each other loop until Twilio's own backstop (error 14107: 30
replies in 30 s between two numbers), and every turn is billed. So a message is not answered when
its sender sent this number, within the clock hour, more than `LOOP_IDENTICAL_TEXTS` (3) texts
identical to it (the body trimmed), or, within the clock minute, more than
`LOOP_TEXTS_PER_MINUTE` (10) texts. A message with media is neither counted nor suppressed: a
WhatsApp album comes as one message per picture, up to 30 at once, from a person.

The windows are the clock's hour and minute, not sliding ones: DynamoDB's UpdateItem cannot
branch, and a window in the key makes the guard one call. The handlers still run (the
conversation and the logs get the message), and the texts they send to others go; the reply
alone is dropped, logged (`reply suppressed: loop guard`) and counted (`RepliesSuppressed`, by
rule). A handler that runs later is not queued: its reply would be dropped, and it would cost a
job and the handler's work per turn of the loop.

Deployed, the counts are one item per our number, sender and clock hour in the senders' table
(`SENDERS_TABLE`), forgotten two hours on (`expires_at`): one UpdateItem per message adds the
message's sid to the set of this text and to the set of this minute, and reads both sets' sizes
back. A set, so that a message Twilio delivers twice counts once. In a local run, the same counts
are in a JSON file of yours (`config.loops_file`), on the local clock (`local_clock.now`), so that
`phone.advance(hours=1)` opens the window again. `LOOP_GUARD=off`: no call at all.

A store that fails (unreachable, throttled, an unreadable file) stops no reply: the message is
answered as usual, and the failure logged and counted (`LoopGuardFailures`).
"""

import hashlib
import hmac
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from sms_webhook import aws
from sms_webhook.config import (
    LoopGuardSettings,
    loop_guard_settings,
    loops_file,
    senders_table,
)
from sms_webhook.conversation import conversation_key
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import count, logger, pseudonym

HOUR = 60 * 60
"""The window of identical texts: the clock hour."""
KEPT = 2 * HOUR
"""An hour's counts are forgotten this long after it began: an hour after it ended."""
SID_TAIL = 8
"""Characters of a MessageSid kept in the counts (its random hex tail): enough to tell one sender's
messages of an hour apart, and a set grows by 8 bytes a message rather than 34."""
TEXT_HASH = 8
"""Hexadecimal characters of a text's hash naming its count: the text itself is never kept."""

IDENTICAL_TEXTS = "identical_texts"
TEXTS_PER_MINUTE = "texts_per_minute"


class Counts(NamedTuple):
    """What a sender sent this number, this message included."""

    same_text: int
    """Messages with this text in the clock hour (0 for a message without text)."""
    this_minute: int
    """Messages in the clock minute."""


class Store(Protocol):
    """Where the counts are kept: each name a set of sid tails, in the item `key`."""

    def add(self, key: str, names: list[str], tail: str, expires_at: int) -> list[int]: ...


def suppresses(message: IncomingMessage, reply: object, secret: str) -> bool:
    """Whether `reply`, the handlers' answer to the message, is not sent: its sender broke a rule
    (logged and counted). `secret`, the one the message was signed with, keys the names of the
    counts (no second read of the token: SSM may be failing). Its counts are kept first: one
    UpdateItem deployed; none when the guard is off, or for a message with media."""
    sender = conversation_key(message.to_number, message.from_number)
    _told.pop(sender, None)  # a local run's word on the sender's last message: this one's now
    store = None if message.media else _store()
    settings = loop_guard_settings() if store else None
    if settings is None or store is None:  # a picture, nowhere to count, or off: no call
        return False
    from sms_webhook import local_clock  # a message that is counted only

    try:
        now = local_clock.now()
        key, names = _names(sender, _exchange(message.body, reply), now, secret)
        expires_at = int(now // HOUR) * HOUR + KEPT
        counts = _counts(names, store.add(key, names, message.sid[-SID_TAIL:], expires_at))
    except Exception as error:  # unreachable, throttled, no permission, an unreadable file
        reason = {"reason": type(error).__name__}
        logger.error("loop guard unavailable: the message is answered", extra=reason)
        count("LoopGuardFailures")
        return False
    rule = broken_rule(counts, settings)
    if rule is None:
        return False
    logger.warning(
        "reply suppressed: loop guard",
        extra={"rule": rule, "from": pseudonym(message.from_number, secret), **counts._asdict()},
    )
    count("RepliesSuppressed", rule=rule)
    if isinstance(store, FileStore):  # for the phone and make chat to say why
        _told[sender] = RULES[rule].format(**settings._asdict())
    return True


def broken_rule(counts: Counts, settings: LoopGuardSettings) -> str | None:
    """The rule the counts break (`IDENTICAL_TEXTS` first), or None."""
    if counts.same_text > settings.identical_texts:
        return IDENTICAL_TEXTS
    if counts.this_minute > settings.texts_per_minute:
        return TEXTS_PER_MINUTE
    return None


RULES = {
    IDENTICAL_TEXTS: "more than {identical_texts} identical texts this clock hour",
    TEXTS_PER_MINUTE: "more than {texts_per_minute} texts this clock minute",
}
"""What each rule means, to be filled in with the settings (`LoopGuardSettings`)."""


_told: dict[str, str] = {}
"""In a local run, why the reply to each sender's last message was suppressed, if it was."""


def locally_broken_rule(number: str, person: str) -> str | None:
    """In a local run, why the reply to `person`'s last text to your `number` was suppressed,
    said with the settings (the phone, `make chat`, make run's line tell it); None when it was
    not."""
    return _told.get(conversation_key(number, person))


def forget(number: str, person: str) -> None:
    """In a local run, forget what `person` sent your `number` (`make chat`'s /reset)."""
    path = loops_file()
    if path:
        FileStore(path).forget(conversation_key(number, person))


def _exchange(body: str, reply: object) -> str:
    """What makes two messages of a sender the same turn of a loop: the same text, trimmed,
    answered the same; "" for a message without text, which no rule of identical texts counts.
    Its reply too, so that a person giving the same short answer ("1", "yes") to different
    questions is not taken for a machine."""
    text = body.strip()
    return f"{text}\n{reply!r}" if text else ""


def _names(sender: str, exchange: str, now: float, secret: str) -> tuple[str, list[str]]:
    """The item of the sender's texts in the clock hour, and the names of the counts of this
    one: its exchange's (none without text), then its minute's. An exchange is named by 8 hex
    digits of its HMAC keyed with `secret` (the auth token, or the SharedKey, that signed the
    message): neither the text nor a hash anyone could reverse by trying short texts is kept."""
    hour, minute = int(now // HOUR), int(now // 60) % 60
    texts = [f"t{_keyed_hash(exchange, secret)}"] if exchange else []
    return f"{sender} hour {hour}", [*texts, f"m{minute}"]


def _keyed_hash(exchange: str, secret: str) -> str:
    return hmac.new(secret.encode(), exchange.encode(), hashlib.sha256).hexdigest()[:TEXT_HASH]


def _counts(names: list[str], sizes: list[int]) -> Counts:
    """The counts of `_names`'s names from their sets' sizes."""
    return Counts(same_text=sizes[0] if len(names) > 1 else 0, this_minute=sizes[-1])


def _store() -> Store | None:
    """The senders' table deployed, a local run's file, or nowhere to count."""
    if table := senders_table():
        return DynamoDBStore(table)
    return FileStore(path) if (path := loops_file()) else None


class DynamoDBStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def add(self, key: str, names: list[str], tail: str, expires_at: int) -> list[int]:
        """One UpdateItem: the tail added to each set, and the sets' sizes read back."""
        placeholders = {f"#c{index}": name for index, name in enumerate(names)}
        answer = aws.client("dynamodb").update_item(
            TableName=self.table,
            Key={"id": {"S": key}},
            UpdateExpression="ADD "
            + ", ".join(f"{placeholder} :sid" for placeholder in placeholders)
            + " SET expires_at = :expires",
            ExpressionAttributeNames=placeholders,
            ExpressionAttributeValues={":sid": {"SS": [tail]}, ":expires": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW",
        )
        kept = answer["Attributes"]
        return [len(kept[name]["SS"]) for name in names]


class FileStore:
    """The counts in a JSON file, replaced whole at each message under the file's lock (`make
    run` answers in threads, `make chat` may share the file); the hours gone are dropped."""

    def __init__(self, path: str) -> None:
        self.path = path

    def add(self, key: str, names: list[str], tail: str, expires_at: int) -> list[int]:
        with self._changing() as entries:
            entry = entries.setdefault(key, {})
            for name in names:
                entry[name] = sorted({*entry.get(name, ()), tail})
            entry["expires_at"] = expires_at
        return [len(entry[name]) for name in names]

    def forget(self, sender: str) -> None:
        with self._changing() as entries:
            for key in [key for key in entries if key.startswith(f"{sender} ")]:
                del entries[key]

    def _changing(self) -> AbstractContextManager[dict[str, Any]]:
        from sms_webhook import local_clock
        from sms_webhook.local_files import changing

        return changing(self.path, "loop guard's file", local_clock.now())
