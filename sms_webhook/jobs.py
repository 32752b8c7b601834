"""The jobs the webhook and `send_text` queue for the worker, and how the queue carries them.

    {"version": 1, "job": "reply", "handler": "report", "fields": [["Body", "REPORT"], ...], ...}
    {"version": 1, "job": "text", "to": "+14155550100", "body": "An agent...", "key": "SM…", ...}
    {"version": 1, "job": "timer", "to": "+14155550100", "handler": "survey_nudge", ...}

A job waits in its queue up to 14 days, and a deploy may come meanwhile: so a job says which
version of this format it is written in, and names a later handler by its stable name (the
function's name, or the one given with `name=`), never by where its code lives. Jobs queued before
versions existed (they named `module.function`) are read too.
"""

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sms_webhook.twiml import Text

VERSION = 2
"""The newest format this code writes: 2 for a text sent from a Content template, which the
release before would take for an empty text; 1 for every other job, which that release still
runs after a rollback. A job of a newer one is not run: it waits in the queues for the release
that wrote it."""


class NotScheduledError(Exception):
    """A job that waits for its time (a timer: `sms_webhook/timers.py`) could not be set or
    withdrawn (the Scheduler unreachable, throttled, denied): the caller must know, since nothing
    will happen at that time. Here, beside the jobs, so that the webhook knows it without loading
    the timers' code."""


class UnreadableJobError(ValueError):
    """What the queue carried is no job this code can run; the text says why, and holds nothing
    a message said."""


@dataclass(frozen=True)
class ReplyJob:
    """A reply to a message whose signature held: the later handler to run on it, by name, or the
    texts reply code made too late for Twilio to take."""

    fields: tuple[tuple[str, str], ...]
    """The message's form fields, in order, as Twilio signed them."""
    status_callback: str | None
    handler: str | None = None
    texts: tuple[Text, ...] = ()
    queued_at: int = field(default_factory=lambda: int(time.time()))


@dataclass(frozen=True)
class TextJob:
    """A text sent first, once per `key` and recipient: from the stack's `SendFrom`, of its
    `TwilioAccountSid`, when they are set, else from `sender` of `account_sid`, the message being
    answered when it was sent (empty from a script)."""

    to: str
    body: str
    media: tuple[str, ...]
    key: str
    account_sid: str
    sender: str
    status_callback: str | None
    queued_at: int = field(default_factory=lambda: int(time.time()))
    template: str = ""
    """A Content template's sid (`HX…`), sent instead of a body."""
    variables: str = ""
    """The values of the template's variables, as Twilio takes them (`ContentVariables`): a JSON
    object of their values by name."""
    number: str = ""
    """The number whose opt-outs and WhatsApp windows count for it: the sender's, or the number
    the message answered was sent to when the sender is a Messaging Service (`recipient_rules`);
    empty from a script through a Messaging Service, and in a job of a release before."""


@dataclass(frozen=True)
class TimerJob:
    """A timer handler's run at a set time, on the conversation of `number` (the Twilio number,
    as the person's messages name it) and `to`: a reminder whose text is written when it fires
    (`send_text(..., handler=)`), or a question's deadline (`Conversation.expect`), which is
    void unless the conversation still waits for `expectation`. What the handler answers goes
    to `to` from `sender` of `account_sid` (the stack's `SendFrom` when they are empty), once
    per `key` and recipient."""

    to: str
    number: str
    handler: str
    key: str
    account_sid: str
    sender: str
    status_callback: str | None
    expectation: str | None = None
    queued_at: int = field(default_factory=lambda: int(time.time()))
    """When it goes on the queue: for a timer, the time it is due."""


Job = ReplyJob | TextJob | TimerJob


def encode(job: Job) -> str:
    """The job as the queue carries it: JSON."""
    kind = "reply" if isinstance(job, ReplyJob) else "text" if isinstance(job, TextJob) else "timer"
    content = asdict(job)
    if isinstance(job, ReplyJob) and not job.texts:  # a handler's to run: nothing made yet
        del content["texts"]
    version = VERSION if isinstance(job, TextJob) and job.template else 1
    if isinstance(job, TextJob) and not job.template:  # a text as the release before wrote it
        del content["template"], content["variables"]
    if isinstance(job, TextJob) and not job.number:
        del content["number"]
    return json.dumps({"version": version, "job": kind, **content})


def decode(body: str) -> Job:
    """The job the queue carried, whichever version of this format wrote it."""
    try:
        content = json.loads(body)
    except ValueError:
        raise UnreadableJobError("not JSON") from None
    if not isinstance(content, dict):
        raise UnreadableJobError("not a JSON object")
    version = content.pop("version", 0)
    if version not in range(VERSION + 1):
        raise UnreadableJobError(f"written in version {version!r}: this code reads {VERSION}")
    try:
        return _read(content)
    except (KeyError, TypeError, ValueError) as error:
        raise UnreadableJobError(f"not a job: {type(error).__name__}") from None


def _read(content: dict[str, Any]) -> Job:
    kind = content.pop("job")
    queued_at = int(content.pop("queued_at", time.time()))
    if kind == "text":
        return TextJob(
            to=str(content["to"]),
            body=str(content["body"]),
            media=tuple(str(url) for url in content["media"]),
            key=str(content["key"]),
            account_sid=str(content.get("account_sid") or ""),
            sender=str(content.get("sender") or ""),
            status_callback=_optional(content.get("status_callback")),
            queued_at=queued_at,
            template=str(content.get("template") or ""),
            variables=str(content.get("variables") or ""),
            number=str(content.get("number") or ""),
        )
    if kind == "timer":
        return TimerJob(
            **{name: str(content[name]) for name in ("to", "number", "handler", "key")},
            account_sid=str(content.get("account_sid") or ""),
            sender=str(content.get("sender") or ""),
            status_callback=_optional(content.get("status_callback")),
            expectation=_optional(content.get("expectation")),
            queued_at=queued_at,
        )
    # Before version 1, a `route`: `module.function`, whose function's name is its stable name.
    route = content.get("route")
    handler = content.get("handler") or (str(route).rpartition(".")[2] if route else None)
    texts = tuple(Text(str(body), tuple(media)) for body, media in content.get("texts", ()))
    if kind != "reply" or not (handler or texts):
        raise ValueError(kind)
    return ReplyJob(
        fields=tuple((str(name), str(value)) for name, value in content["fields"]),
        status_callback=_optional(content.get("status_callback")),
        handler=str(handler) if handler else None,
        texts=texts,
        queued_at=queued_at,
    )


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
