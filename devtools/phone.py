"""A phone that texts your bot, for your tests: the replies come back as a list of texts.

    from devtools.phone import Phone

    def test_the_survey_asks_two_questions_then_thanks():
        phone = Phone()
        assert phone.send("SURVEY") == ["Two quick questions. 1/2: how did you hear about us?"]
        assert phone.send("a friend")[0].startswith("2/2")
        assert phone.send("5") == ["Thanks! You heard of us through 'a friend' and gave us 5."]

Each text goes through the real webhook (`handler.lambda_handler`), as the event API Gateway
makes of Twilio's request, signed as Twilio signs it, with a new MessageSid: the signature check
and your handlers run as deployed. Nothing reaches AWS, whatever your shell exports (see
`AWS_SETTINGS`), so deduplication, which needs its DynamoDB table (`IDEMPOTENCY_TABLE`), is off,
as in `make run`. The phone's conversation lasts as long as the phone (a file of its own, in a
temporary folder removed with the phone), so state carries from one send to the next.

`phone.segments` says what each message of the last answer is billed as by SMS, its segments and
their encoding, so that a test can keep a reply to one segment (a Japanese reply of 100
characters is `(2, "UCS-2")`; an MMS or a WhatsApp message, priced per message, `(0, None)`):

    def test_the_hours_fit_in_one_segment():
        phone = Phone()
        phone.send("HOURS")
        assert phone.segments == [(1, "GSM-7")]

The loop guard is on, as deployed: the 4th identical text within a clock hour (or the 11th text
within a clock minute) gets no reply, and `phone.suppressed` says why (`phone.advance(hours=1)`
or `phone.forget()` lets the phone be answered again).

A handler that runs later runs within the send, and what it sends goes to the phone's outbox (a
file in that folder too), never to Twilio or a queue: a send returns the acknowledgement, then
the later reply, and `phone.outbox` holds every text the bot sent, to this phone or, for a text
sent first (`send_text`), to anyone:

    def test_the_report_follows_its_acknowledgement():
        assert Phone().send("REPORT") == [
            "Working on it: your report follows in a moment.",
            "Your report: 1 text(s) from you in this conversation so far.",
        ]

The phone has a clock: a timer set meanwhile (a question's deadline, `conversation.expect`; a
reminder, `send_text(..., at=)`) waits on it, `phone.timers` lists those waiting (`Waiting`:
when, to whom, what), and `phone.advance(...)` lets time pass: what fell due goes off, the
earliest first, and what it sent, to this phone or anyone, is returned. No test waits an hour:

    router = Router()

    @router.keyword("SURVEY")
    def survey(message: IncomingMessage, conversation: Conversation) -> Reply:
        conversation.expect(within=timedelta(hours=1), otherwise="nudge")
        return "How did you hear about us?"

    @router.timer
    def nudge(timer: Timer) -> Reply:
        return "Still there?"

    def test_the_survey_nudges_after_an_hour_without_an_answer():
        phone = Phone(router=router)
        phone.send("SURVEY")
        assert [timer.handler for timer in phone.timers] == ["nudge"]
        assert phone.advance(minutes=59) == []
        assert phone.advance(minutes=1) == [SentText(phone.address, "Still there?")]
"""

import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple

from devtools.lambda_context import LambdaContext
from devtools.local_token import local_token
from devtools.proxy_events import Target, rest_event
from devtools.twilio_message import (
    ACCOUNT_SID,
    SENDER,
    TWILIO_NUMBER,
    form_encode,
    message_fields,
    new_message_sid,
    twilio_signature,
)
from devtools.twiml_answer import OutgoingMessage, twiml_messages
from sms_webhook import Router, later, loop_guard, senders
from sms_webhook.conversation import conversation_key
from sms_webhook.conversation_store import FileStore
from sms_webhook.jobs import Job, TextJob, TimerJob
from sms_webhook.local_run import LocalRun, installed, using
from sms_webhook.local_run import router as installed_router
from sms_webhook.segments import Segments, billed_segments
from sms_webhook.sending import Outgoing

HOST = "phone.test"
URL = f"https://{HOST}/sms"
AWS_SETTINGS = (
    "TWILIO_AUTH_TOKEN_PARAMETER",
    "TWILIO_SHARED_KEYS_PATH",
    "IDEMPOTENCY_TABLE",
    "CONVERSATION_TABLE",
    "SENDERS_TABLE",
    "LATER_QUEUE_URL",
    "TWILIO_API_KEY_PARAMETER",
)
"""The settings (sms_webhook/config.py) that send the webhook to SSM, DynamoDB or SQS: unset
while the phone texts, whatever your shell exports, so that a test never reaches AWS."""


class SentText(NamedTuple):
    """A text the bot put in the outbox: to whom, and what."""

    to: str
    body: str
    media: tuple[str, ...] = ()
    template: str = ""
    """A Content template's sid, sent in place of a body (`send_text(template=)`)."""
    variables: str = ""
    """Its variables' values, as Twilio would get them: a JSON object by name."""


class NotAnsweredError(AssertionError):
    """The webhook answered a text with another status than 200: the test that sent it fails,
    and `make chat` says so and, at its end, exits with a status that says something failed."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"the webhook answered {status}: {body}")
        self.status = status


class Waiting(NamedTuple):
    """A timer set and not gone off yet (`phone.timers`)."""

    due: datetime
    """When it goes off, on the phone's clock."""
    to: str
    handler: str | None
    """The timer handler that writes its text when it goes off (a question's deadline, a
    reminder `send_text(..., handler=)`); None for a reminder set with its text."""
    body: str = ""
    """The text of a reminder set with one."""


class Phone:
    """One sender texting your Twilio number, on a channel (`sms`, `whatsapp`...)."""

    def __init__(
        self,
        number: str = SENDER,
        *,
        channel: str = "sms",
        twilio_number: str = TWILIO_NUMBER,
        conversations: Path | None = None,
        outbox_file: Path | None = None,
        router: Router | None = None,
        local_run: LocalRun | None = None,
    ) -> None:
        """`router`: what answers instead of replies.py's router (a test's own; by default, the
        one the local run in use when a text is sent names, if any). `local_run`: where its jobs
        for later run and its texts go; by default a local run of its own, which runs each job
        at once, within the send, and keeps texts in `outbox_file` (a file of its own by
        default). `make chat` gives its own, which runs them after the answer."""
        if local_run is not None and (router is not None or outbox_file is not None):
            raise ValueError("a phone given a local_run takes its router and outbox from it")
        prefix = "" if channel == "sms" else f"{channel}:"
        self.address = f"{prefix}{number}"
        self.twilio_address = f"{prefix}{twilio_number}"
        folder = Path(tempfile.mkdtemp(prefix="phone-"))  # its own, removed with the phone
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.conversations = conversations or folder / "conversations.json"
        self.router = router
        self.local_run = local_run or LocalRun(outbox_file or folder / "outbox.jsonl")
        """Where its jobs run and its texts go (`sms_webhook/local_run.py`) while it texts."""
        self.outbox_file = Path(self.local_run.outbox or folder / "outbox.jsonl")
        self.last: list[OutgoingMessage] = []
        """The messages of the last answer, with their media, then those of the later reply."""
        self.outbox: list[SentText] = []
        """Every text the bot sent during this phone's sends, to this phone or anyone else."""
        self.suppressed: str | None = None
        """Why the loop guard left the last text unanswered (`more than 3 identical texts this
        clock hour`), or None: it did not."""

    def send(self, text: str, *, media: Sequence[tuple[str, str]] = (), **fields: str) -> list[str]:
        """The texts the bot answers `text` with (none for no reply), then a later reply.

        `media`: (URL, content type) pairs, for an MMS; `fields`: more of Twilio's fields, as
        Twilio names them (`ProfileName="Ada"`, `ButtonPayload="YES"`).
        """
        sent: list[Outgoing] = []
        with self.settings() as token, self.local_run.listening(_in_this_thread(sent.append)):
            import handler  # once the environment it reads is set

            event = self.event_for(text, token, media=media, **fields)
            answer = handler.lambda_handler(event, LambdaContext())
        if answer["statusCode"] != HTTPStatus.OK:
            raise NotAnsweredError(answer["statusCode"], answer["body"])
        self._sent(sent)
        later_reply = [as_read(outgoing) for outgoing in sent if outgoing.to == self.address]
        self.last = [*twiml_messages(answer["body"]), *later_reply]
        self.suppressed = loop_guard.locally_broken_rule(self.twilio_address, self.address)
        return [message.text for message in self.last]

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> list[SentText]:
        """Let time pass on the phone's clock: the timers due by then go off, the earliest first,
        and so do those they set that are due by then too (a nudge's own deadline); what they
        sent, to this phone or to anyone, in order. Their handlers are those that answer the
        phone: its router's, else replies.py's.

        The clock stops at each timer's time on the way, so that a handler that sets another
        timer sets it from the time it went off, as deployed, not from the end of the wait."""
        clock = self.local_run.clock
        until = clock.now() + timedelta(days=days, hours=hours, minutes=minutes).total_seconds()
        sent: list[Outgoing] = []
        with self.settings(), self.local_run.listening(_in_this_thread(sent.append)):
            import replies  # once the environment it reads is set

            later.run_due_timers(self.local_run.router or replies.router, until)
        return self._sent(sent)

    @property
    def segments(self) -> list[Segments]:
        """What each message of `last` is billed as: its SMS segments and their encoding,
        `(2, "UCS-2")` for 100 Japanese characters; `(0, None)` for an MMS or a message on
        WhatsApp or another channel, which Twilio prices per message (sms_webhook/segments.py)."""
        return [billed_segments(sent.text, sent.media, self.address) for sent in self.last]

    @property
    def timers(self) -> list[Waiting]:
        """The timers waiting on the phone's clock, the soonest first."""
        return [_waiting(job) for job in self.local_run.clock.waiting()]

    def _sent(self, sent: list[Outgoing]) -> list[SentText]:
        """The texts sent, as the phone lists them, added to its `outbox`."""
        texts = [
            SentText(
                outgoing.to, outgoing.body, outgoing.media, outgoing.template, outgoing.variables
            )
            for outgoing in sent
        ]
        self.outbox += texts
        return texts

    @property
    def opted_out(self) -> bool:
        """Whether this phone opted out of your number's texts (STOP, not yet START): replies to
        it are blocked, as Twilio blocks them."""
        with self.settings():
            return senders.opted_out(self.twilio_address, self.address)

    def forget(self) -> None:
        """Forget this phone's conversation, a STOP it sent, its WhatsApp window, and what the
        loop guard counted of its texts, as if it had never texted."""
        with self.settings():
            forget(self.conversations, self.twilio_address, self.address)

    def event_for(
        self, text: str, token: str, *, media: Sequence[tuple[str, str]] = (), **fields: str
    ) -> dict[str, Any]:
        """The event of this phone's next text, signed with `token`, with a new MessageSid."""
        all_fields = [
            *message_fields(
                text,
                from_number=self.address,
                to_number=self.twilio_address,
                media=media,
                sid=new_message_sid(media),
            ),
            *fields.items(),
        ]
        url = os.environ.get("TWILIO_WEBHOOK_URL") or URL  # the URL the webhook will check
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", HOST),
            ("X-Twilio-Signature", twilio_signature(url, all_fields, token)),
        ]
        target = Target(HOST, "/sms", "/sms")
        body = form_encode(all_fields).encode()
        return rest_event("POST", target, headers=headers, body=body)

    @contextmanager
    def settings(self) -> Iterator[str]:
        """What the webhook runs with while the phone texts: the token it checks (yours, or the
        public test one: the one yielded), this phone's conversations, its local run (jobs and
        outbox), texts sent first from its Twilio number, and none of the `AWS_SETTINGS`.
        `make chat` keeps them for its whole run, for the replies that finish after a send."""
        token = local_token()
        values = {
            "TWILIO_AUTH_TOKEN": token,
            "CONVERSATION_FILE": str(self.conversations),
            "SENDERS_FILE": str(self.conversations.with_name("senders.json")),
            "LOOPS_FILE": str(self.conversations.with_name("loops.json")),
            "OUTBOX_FILE": str(self.outbox_file),
            "SEND_FROM": self.twilio_address,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            **dict.fromkeys(AWS_SETTINGS),
        }
        saved = {name: os.environ.get(name) for name in values}
        if self.local_run is not installed():  # a router a test installed answers the phone
            self.local_run.router = self.router or installed_router()
        _set(values)
        try:
            with using(self.local_run):
                yield token
        finally:
            _set(saved)


def forget(conversations: Path, twilio_address: str, address: str) -> None:
    """Forget a sender's conversation with your number (kept in `conversations`), a STOP they
    sent, their WhatsApp window and the loop guard's counts of their texts (in the files the
    environment names), as if they had never texted: the phone's `forget`, and `make phone`'s
    reset."""
    store = FileStore(conversations)
    key = conversation_key(twilio_address, address)
    store.forget(key, store.read(key))
    senders.forget_locally(twilio_address, address)
    loop_guard.forget(twilio_address, address)


def _set(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def as_read(outgoing: Outgoing) -> OutgoingMessage:
    """A text the bot put in the outbox as its recipient reads it, or the template it is sent
    from."""
    return OutgoingMessage(outgoing.body, outgoing.media, outgoing.template, outgoing.variables)


def _waiting(job: Job) -> Waiting:
    due = datetime.fromtimestamp(job.queued_at, UTC)
    if isinstance(job, TimerJob):
        return Waiting(due, job.to, job.handler)
    if isinstance(job, TextJob):
        return Waiting(due, job.to, None, job.body)
    raise TypeError("a reply to a message waits on no clock")


def _in_this_thread(listener: Callable[[Outgoing], None]) -> Callable[[Outgoing], None]:
    """`listener`, told only of the texts sent by the thread that made it: those of a send, not
    those of a reply finishing in the background meanwhile (`make chat`)."""
    thread = threading.get_ident()

    def heard(outgoing: Outgoing) -> None:
        if threading.get_ident() == thread:
            listener(outgoing)

    return heard
