"""`make phone`: a phone in your browser, served at /phone by `make run`'s own server.

    make phone                # opens http://127.0.0.1:3000/phone (OPEN=0: only prints it)

The page (devtools/phone_page/: plain files, no build step, nothing fetched from elsewhere)
talks to the routes below. A text typed there is made into the request Twilio would make and
POSTed, signed with the local token, to the server's own /sms route (devtools/phone_twilio.py):
the page never sees the token, and the webhook runs exactly as for `make send`. What happens is
kept in the journal (devtools/phone_journal.py), which the page reads as a stream of events: the
text, the webhook's answer (each reply's encoding and segments, the line `make run` prints for it,
the traceback of a handler that raised), the texts put in the outbox (later replies and texts sent
first, to anyone), and each text's delivery status, reported to /status as Twilio would.

Only this machine may use it, and only the page itself: a request must name a loopback host and
come through no proxy (devtools/loopback.py), whatever the token; one made by another site the
browser has open carries that site's `Origin` (or `Sec-Fetch-Site: cross-site`) and is refused,
and a POST without an `Origin` too. Nothing is served with permissive CORS headers. The page
shows what a message holds as text, never as HTML, and its Content-Security-Policy runs no
script but its own.
"""

import json
import mimetypes
import os
import re
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, urlsplit
from xml.etree import ElementTree

from devtools import phone
from devtools.console import escaped, request_line, your_traceback
from devtools.local_port import signed_url
from devtools.loopback import is_local_request
from devtools.paths import LOCAL_PHONE_JOURNAL, LOCAL_PHONE_MEDIA, own_folder
from devtools.phone_journal import Event, Journal
from devtools.phone_twilio import Fields, post_signed, report_delivery, status_fields
from devtools.twilio_message import (
    PROFILE_NAME,
    TWILIO_NUMBER,
    form_encode,
    message_fields,
    new_message_sid,
    whatsapp_fields,
)
from sms_webhook.conversation import conversation_key
from sms_webhook.conversation_store import FileStore
from sms_webhook.message import Button, Location
from sms_webhook.segments import billed_segments
from sms_webhook.twiml import texts_in

if TYPE_CHECKING:
    from sms_webhook.local_run import LocalRun

PAGE = Path(__file__).with_name("phone_page")
PAGE_FILES = {
    "/phone": ("index.html", "text/html; charset=utf-8"),
    "/phone/phone.js": ("phone.js", "text/javascript; charset=utf-8"),
    "/phone/phone.css": ("phone.css", "text/css; charset=utf-8"),
}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The page runs its own script and style only, shows pictures served here only (a reply's
media elsewhere is a link), and may not be framed by another site."""
MEDIA_POLICY = "default-src 'none'; sandbox"
"""An attachment is shown, never run: an HTML file attached is inert."""
MAX_ATTACHMENT = 5 * 1024 * 1024
"""Twilio's limit for an MMS's media, in bytes."""
MEDIA_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,10}")
MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]{1,100}")
NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")
"""A sender's number as E.164 writes it, as Twilio's `From` holds it."""
CHANNELS = ("sms", "whatsapp")
POLL_SECONDS = 0.2
"""How often the event stream and the outbox's watch look for what is new."""
HEARTBEAT_SECONDS = 10
"""A comment on a quiet event stream: a page gone is noticed, and its thread ends."""


@dataclass
class Answer:
    """One response of the page's routes."""

    status: int
    payload: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(value: object, status: int = 200) -> Answer:
    return Answer(status, json.dumps(value, ensure_ascii=False).encode())


def refused(status: int, reason: str) -> Answer:
    return Answer(status, reason.encode(), "text/plain; charset=utf-8")


def refusal(method: str, headers: Message) -> str | None:
    """Why a request may not use the phone, if it may not: one not made on this machine, or made
    by another site's page (its `Origin`, or the browser's `Sec-Fetch-Site`), or a POST that does
    not say where it comes from."""
    if not is_local_request(headers):
        return "the phone answers requests made on this machine only (127.0.0.1 or localhost)"
    origin = headers.get("Origin")
    if origin is not None and origin != f"http://{headers.get('Host')}":
        return f"a request from another site ({origin}) may not use the phone"
    if method != "GET" and origin is None:
        return "a request that does not say where it comes from (no Origin) may not use the phone"
    if headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
        return "a request from another site may not use the phone"
    return None


def twilio_address(address: str) -> str:
    """Your number on the sender's channel: `whatsapp:+1…` for `whatsapp:+44…`."""
    channel, colon, _ = address.rpartition(":")
    return f"{channel}{colon}{TWILIO_NUMBER}"


def segments(text: str, media: tuple[str, ...] | list[str], to: str) -> list[Any]:
    """What a text is billed as, `[count, encoding]` (`[0, null]`: priced per message)."""
    return list(billed_segments(text, media, to))


def incoming_fields(request: dict[str, Any]) -> tuple[str, Fields]:
    """The sender's address and the fields of Twilio's request for a text the page sent:
    `number`, `channel`, `text`, `media` ([{url, type}]), and on WhatsApp a `button` ({text,
    payload}) pressed or a `location` ({latitude, longitude, address, label}) shared.
    ValueError for what Twilio would never send."""
    number, channel = str(request.get("number", "")), str(request.get("channel", ""))
    if not NUMBER.fullmatch(number) or channel not in CHANNELS:
        raise ValueError("a number as +14155551234 and a channel, sms or whatsapp")
    text = str(request.get("text", ""))
    media = [(str(item["url"]), str(item["type"])) for item in request.get("media") or []]
    sid = new_message_sid(media)
    if channel == "sms":
        return number, message_fields(
            text, from_number=number, to_number=TWILIO_NUMBER, media=media, sid=sid
        )
    button = request.get("button")
    location = request.get("location")
    address = f"whatsapp:{number}"
    return address, whatsapp_fields(
        text,
        from_number=address,
        to_number=twilio_address(address),
        profile_name=PROFILE_NAME,
        media=media,
        location=Location(
            float(location["latitude"]),
            float(location["longitude"]),
            str(location.get("address", "")),
            str(location.get("label", "")),
        )
        if location
        else None,
        button=Button(str(button["text"]), str(button["payload"])) if button else None,
        sid=sid,
    )


def shared_place(form: dict[str, str]) -> str | None:
    """A location a WhatsApp text shares, as the page shows it: its label, address and
    coordinates."""
    if "Latitude" not in form:
        return None
    parts = [form["Label"], form["Address"], f"{form['Latitude']}, {form['Longitude']}"]
    return " · ".join(part for part in parts if part)


def replies(payload: bytes) -> list[tuple[str, tuple[str, ...], str | None]]:
    """Each message of a TwiML answer: its text, its media, and where its delivery is to be
    reported (its `action`), in order; none for what is not TwiML."""
    try:
        response = ElementTree.fromstring(payload)  # noqa: S314 - our own server's answer
    except ElementTree.ParseError:
        return []
    actions = [message.get("action") for message in response.iter("Message")]
    return [
        (text.body, tuple(text.media), action)
        for text, action in zip(texts_in(response), actions, strict=True)
    ]


class PhoneApp:
    """The page's routes in the server on `port`, the journal they keep, and the errors and
    texts of the server's local run, which it hears of (`hear`)."""

    def __init__(
        self,
        port: int,
        journal: Path = LOCAL_PHONE_JOURNAL,
        media: Path = LOCAL_PHONE_MEDIA,
        outbox: Path | None = None,
    ) -> None:
        self.port = port
        self.journal = Journal(journal)
        self.media = media
        self.outbox = outbox or Path(os.environ["OUTBOX_FILE"])
        self.conversations = Path(os.environ["CONVERSATION_FILE"])
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._fail_next = False
        self._sending = 0
        self._errors: list[str] = []
        self.routes: dict[tuple[str, str], Callable[[SplitResult, Message, bytes], Answer]] = {
            ("GET", "/phone/conversation"): self._conversation,
            ("POST", "/phone/send"): self._send,
            ("POST", "/phone/media"): self._attach,
            ("POST", "/phone/reset"): self._reset,
            ("POST", "/phone/fail-next"): self._set_fail_next,
        }

    @staticmethod
    def serves(path: str) -> bool:
        return path == "/phone" or path.startswith("/phone/")

    def hear(self, run: "LocalRun") -> None:
        """The local run's errors (a handler that raised) are shown on the page too."""
        told = run.on_error

        def failed(error: Exception) -> None:
            if told:
                told(error)
            self._failed(your_traceback(error))

        run.on_error = failed

    @contextmanager
    def running(self) -> Iterator["PhoneApp"]:
        """The outbox watched meanwhile: each text put there is shown, and delivered."""
        try:
            start = self.outbox.stat().st_size  # now, not when the thread gets to it
        except FileNotFoundError:
            start = 0
        watch = threading.Thread(target=self._watch_outbox, args=(start,), daemon=True)
        watch.start()
        try:
            yield self
        finally:
            self._stopped.set()
            watch.join()

    def handle(self, request: BaseHTTPRequestHandler, target: SplitResult, body: bytes) -> None:
        """Answer one request to the page's routes: refused unless this machine's page made it."""
        reason = refusal(request.command, request.headers)
        if reason is not None:
            print(escaped(f"{request.command} {target.path} ⇒ 403 {reason}"), flush=True)
            answer = refused(403, reason)
        elif request.command == "GET" and target.path == "/phone/events":
            self._stream(request, target)
            return
        else:
            answer = self._answer(request.command, target, request.headers, body)
        request.send_response(answer.status)
        headers = {
            "Content-Type": answer.content_type,
            "Content-Length": str(len(answer.payload)),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": PAGE_POLICY,
            **answer.headers,
        }
        for name, value in headers.items():
            request.send_header(name, value)
        with suppress(BrokenPipeError, ConnectionResetError):
            request.end_headers()
            request.wfile.write(answer.payload)

    def _answer(self, method: str, target: SplitResult, headers: Message, body: bytes) -> Answer:
        if method == "GET" and target.path in PAGE_FILES:
            name, content_type = PAGE_FILES[target.path]
            return Answer(200, (PAGE / name).read_bytes(), content_type)
        if method == "GET" and target.path.startswith("/phone/media/"):
            return self._media(target.path.removeprefix("/phone/media/"))
        route = self.routes.get((method, target.path))
        if route is None:
            return refused(404, "no such page")
        try:
            return route(target, headers, body)
        except (ValueError, KeyError, TypeError) as error:
            return refused(400, f"not a request the page makes: {error}")

    def _conversation(self, target: SplitResult, headers: Message, body: bytes) -> Answer:
        """The conversation with `?address=`, as the store keeps it: read-only."""
        address = parse_qs(target.query).get("address", [""])[0]
        stored = FileStore(self.conversations).read(
            conversation_key(twilio_address(address), address)
        )
        return json_answer(
            {
                "state": json.loads(stored.state),
                "history": json.loads(stored.history),
                "expecting": stored.expecting,
            }
        )

    def _reset(self, target: SplitResult, headers: Message, body: bytes) -> Answer:
        address = str(json.loads(body)["address"])
        phone.forget(self.conversations, twilio_address(address), address)
        self._record({"kind": "reset", "thread": address})
        return json_answer({})

    def _set_fail_next(self, target: SplitResult, headers: Message, body: bytes) -> Answer:
        """Whether the next text the bot sends fails to be delivered (30003)."""
        with self._lock:
            self._fail_next = bool(json.loads(body)["fail"])
            self._record({"kind": "fail-next", "on": self._fail_next})
        return json_answer({})

    def _take_fail_next(self) -> bool:
        with self._lock:
            fail, self._fail_next = self._fail_next, False
            if fail:
                self._record({"kind": "fail-next", "on": False})
        return fail

    def _attach(self, target: SplitResult, headers: Message, body: bytes) -> Answer:
        """A file attached on the page, kept in the media folder; its URL on this server (the
        page's own host), for the text's `MediaUrl0`."""
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not MEDIA_TYPE.fullmatch(content_type):
            return refused(400, "an attachment needs its Content-Type")
        if len(body) > MAX_ATTACHMENT:
            return refused(413, "an attachment of 5 MB at most, as an MMS")
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = secrets.token_hex(16) + extension
        own_folder(self.media)
        descriptor = os.open(self.media / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as written:
            written.write(body)
        url = f"http://{headers.get('Host')}/phone/media/{name}"
        return json_answer({"url": url, "type": content_type})

    def _media(self, name: str) -> Answer:
        if not MEDIA_NAME.fullmatch(name) or not (self.media / name).is_file():
            return refused(404, "no such attachment")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {"Content-Security-Policy": MEDIA_POLICY}
        if not content_type.startswith("image/"):
            headers["Content-Disposition"] = "attachment"
        return Answer(200, (self.media / name).read_bytes(), content_type, headers)

    def _send(self, target: SplitResult, headers: Message, body: bytes) -> Answer:
        """A text from the page, through the webhook as Twilio sends it; its answer recorded."""
        address, fields = incoming_fields(json.loads(body))
        form = dict(fields)
        sid = form["MessageSid"]
        media = [form[f"MediaUrl{index}"] for index in range(int(form["NumMedia"]))]
        media_types = [form[f"MediaContentType{index}"] for index in range(len(media))]
        self._record(
            {
                "kind": "in",
                "sid": sid,
                "thread": address,
                "text": form["Body"],
                "media": [
                    {"url": url, "type": kind} for url, kind in zip(media, media_types, strict=True)
                ],
                "button": form.get("ButtonText"),
                "location": shared_place(form),
            }
        )
        with self._lock:
            self._sending += 1
        try:
            status, payload = post_signed(self.port, "/sms", signed_url(self.port), fields)
        finally:
            with self._lock:
                self._sending -= 1
                errors, self._errors = self._errors, []
        self._answered(fields, status, payload, errors)
        return json_answer({"sid": sid})

    def _answered(self, fields: Fields, status: int, payload: bytes, errors: list[str]) -> None:
        """The webhook's answer to a text recorded, and each reply's delivery started."""
        form = dict(fields)
        address = form["From"]
        sent = [
            (new_message_sid(media), text, media, action)
            for text, media, action in (replies(payload) if status == HTTPStatus.OK else [])
        ]
        line = request_line("POST", urlsplit("/sms"), form_encode(fields).encode(), status, payload)
        self._record(
            {
                "kind": "answer",
                "sid": form["MessageSid"],
                "thread": address,
                "status": status,
                "line": line,
                "messages": [
                    {
                        "sid": reply_sid,
                        "text": text,
                        "media": list(media),
                        "segments": segments(text, media, address),
                    }
                    for reply_sid, text, media, _ in sent
                ],
                "errors": errors,
            }
        )
        for reply_sid, *_, action in sent:  # once the page knows of them
            self._deliver(reply_sid, address, action)

    def _deliver(self, sid: str, to: str, callback: str | None) -> None:
        sender = twilio_address(to)

        def reported(status: str, code: int | None, answer: bytes) -> None:
            self._record({"kind": "status", "sid": sid, "status": status, "http": code})

        report_delivery(
            self.port,
            callback,
            lambda status: status_fields(sid, status, to=to, sender=sender),
            fail=self._take_fail_next(),
            reported=reported,
        )

    def _failed(self, trace: str) -> None:
        """An error of reply code: shown with the text being answered, else on its own (a later
        reply's, a timer's)."""
        with self._lock:
            if self._sending:
                self._errors.append(trace)
                return
        self._record({"kind": "error", "trace": trace})

    def _record(self, event: Event) -> None:
        self.journal.append({**event, "at": round(time.time(), 3)})

    def _watch_outbox(self, offset: int) -> None:
        """Each text put in the outbox after `offset`, shown and delivered."""
        while not self._stopped.wait(POLL_SECONDS):
            try:
                with self.outbox.open("rb") as outbox:
                    outbox.seek(offset)
                    lines = outbox.read().splitlines(keepends=True)
            except FileNotFoundError:
                continue
            for line in lines:
                if not line.endswith(b"\n"):
                    break
                offset += len(line)
                self._sent(json.loads(line))

    def _sent(self, text: dict[str, Any]) -> None:
        """A text from the outbox: a later reply or a text sent first, to anyone; a reminder or
        a template's text shows its template and variables, when the outbox line names them."""
        media = tuple(text.get("media") or ())
        self._record(
            {
                "kind": "sent",
                "sid": text["sid"],
                "thread": text["to"],
                "text": text["body"],
                "media": list(media),
                "segments": segments(text["body"], media, text["to"]),
                "template": text.get("template"),
                "variables": text.get("variables"),
            }
        )
        self._deliver(text["sid"], text["to"], text.get("status_callback"))

    def _stream(self, request: BaseHTTPRequestHandler, target: SplitResult) -> None:
        """The journal as Server-Sent Events, from where the page stood (`Last-Event-ID`), until
        the page is gone or the server stops."""
        given = request.headers.get("Last-Event-ID") or parse_qs(target.query).get("from", [""])[0]
        offset = int(given) if given.isdigit() else 0
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        quiet = 0.0
        with suppress(OSError):
            request.wfile.write(b"retry: 1000\n\n")
            while not self._stopped.is_set():
                events = self.journal.read(offset)
                for offset, event in events:
                    data = json.dumps(event, ensure_ascii=False)
                    request.wfile.write(f"id: {offset}\ndata: {data}\n\n".encode())
                quiet = 0 if events else quiet + POLL_SECONDS
                if quiet >= HEARTBEAT_SECONDS:
                    request.wfile.write(b": still here\n\n")
                    quiet = 0
                request.wfile.flush()
                self._stopped.wait(POLL_SECONDS)


def open_page(url: str) -> str:
    """Open the page in your browser, unless `OPEN=0` or there is no display to show it on;
    the line that says where it is."""
    wanted = os.environ.get("OPEN", "1").strip() != "0"
    display = sys.platform in ("darwin", "win32")
    display = display or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if wanted and display and webbrowser.open(url):
        return f"Your phone is open in your browser: {url}"
    return f"Your phone: open {url} in your browser"
