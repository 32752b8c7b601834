"""What `make run` prints for a person to read: the banner, a line for each request, for each
text put in the local outbox and for each timer set or gone off, and the traceback of an error of
reply code.

Everything a request or a text holds is printed escaped (`escaped`): it cannot move the cursor,
retitle the window or fake a line in your terminal.
"""

import json
import os
import shlex
import sys
import traceback
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

from devtools.commands import as_started
from devtools.durations import about
from devtools.function_code import is_project_code
from devtools.local_port import DEFAULT_PORT, local_url, serve_command, signed_url
from devtools.local_token import development_token, local_token
from devtools.paths import LOCAL_LOG, PROJECT
from devtools.twilio_message import form_encode, message_fields, twilio_signature
from devtools.twiml_answer import NotTwimlError, twiml_messages
from sms_webhook import loop_guard
from sms_webhook.form import parse_form
from sms_webhook.jobs import Job, TextJob, TimerJob
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import pseudonym

if TYPE_CHECKING:  # for annotations only: the server process imports it with the worker
    from sms_webhook.sending import Outgoing


NO_REPLY = "(no reply)"
"""What a request line says of an empty `<Response/>`."""


def request_line(method: str, target: SplitResult, body: bytes, status: int, payload: bytes) -> str:
    """The line a person reads for a request: who sent what, and what the webhook answered.

    `+1…34#5f2c9a1e → "price" ⇒ "Small: $5" | "Large: $8"`, the sender as the function's logs
    show it; other routes, and what is not a message, show the method, path and status.
    """
    answer = answer_summary(status, payload)
    form = target.query.encode() if method == "GET" else body
    try:
        message = IncomingMessage.from_fields(parse_form(form))
    except ValueError:  # not a message as Twilio sends one: the answer says why
        message = None
    if target.path != "/sms" or message is None:
        return escaped(f"{method} {target.path} ⇒ {answer if status != HTTPStatus.OK else status}")
    text = _quoted(message.body)
    if message.media:
        text += f" + {len(message.media)} media"
    held = loop_guard.locally_broken_rule(message.to_number, message.from_number)
    if held and answer == NO_REPLY:
        answer = f"(no reply: the loop guard held it back, {held}; /reset in make chat forgets)"
    return escaped(f"{pseudonym(message.from_number, local_token())} → {text} ⇒ {answer}")


def answer_summary(status: int, payload: bytes) -> str:
    """The replies of a TwiML answer on one line, or the status and reason of a refusal."""
    if status != HTTPStatus.OK:
        reason = payload.decode(errors="replace").strip().splitlines()
        return f"{status} {reason[0] if reason else ''}".strip()
    try:
        messages = twiml_messages(payload)
    except NotTwimlError as error:
        return f"{status}, but {error}"
    if not messages:
        return NO_REPLY
    return " | ".join(_shown(message.text, message.media) for message in messages)


def sent_line(outgoing: "Outgoing") -> str:
    """The line a person reads for a text put in the local outbox: to whom, as request lines
    show senders, and what. `sent to +1…34#5f2c9a1e ⇒ "Your report: ..."`"""
    who = pseudonym(outgoing.to, local_token())
    what = (
        template_shown(outgoing.template, outgoing.variables)
        if outgoing.template
        else _shown(outgoing.body, outgoing.media)
    )
    return escaped(f"sent to {who} ⇒ {what}")


def template_shown(template: str, variables: str) -> str:
    """A text sent from a Content template, shown in place of a body, which Twilio writes:
    `[template HX… {"1": "Ana"}]`."""
    return f"[template {' '.join(filter(None, (template, variables)))}]"


def timer_named(job: Job) -> str:
    """A timer as a person reads it: what goes off (its timer handler, or `reminder` for a text
    given when it was set), and for whom, as request lines show senders.
    `survey_nudge for +1…34#5f2c9a1e`"""
    if isinstance(job, TimerJob):
        what = job.handler
    elif isinstance(job, TextJob):
        what = "reminder"
    else:
        raise TypeError("a reply to a message waits for no timer")
    return escaped(f"{what} for {pseudonym(job.to, local_token())}")


def timer_due(job: Job, now: float) -> str:
    """A timer and how long until it goes off, `now` on the clock it waits on.
    `survey_nudge for +1…34#5f2c9a1e in 1h`, `... due now`"""
    left = job.queued_at - now
    when = f"in {about(left)}" if left >= 1 else "due now"
    return f"{timer_named(job)} {when}"


def _shown(text: str, media: tuple[str, ...]) -> str:
    """A message's text, quoted, then its media."""
    return _quoted(text) + "".join(f" [media: {url}]" for url in media)


def _quoted(text: str) -> str:
    """The text in quotes on one line, its line breaks and quotes escaped."""
    return json.dumps(text, ensure_ascii=False)


JOINERS = frozenset("\u200c\u200d")
"""Zero-width (non-)joiners: format characters, but they only join letters and emoji (👩‍💻)."""


def escaped(text: str) -> str:
    """The text with every character a terminal would act on, or that would hide or reorder what
    is shown (control characters, line breaks, bidi overrides: all that Python's `isprintable`
    refuses, but the joiners), written as Python escapes it (`\\x1b`, `\\u202e`): a request or a
    text cannot move the cursor, retitle the window or fake a line in your terminal."""
    return "".join(
        character
        if character.isprintable() or character in JOINERS
        else character.encode("unicode_escape").decode("ascii")
        for character in text
    )


def print_traceback(error: Exception) -> None:
    """The traceback of an error of reply code (or of the webhook's own), printed
    (`your_traceback`).

    Deployed, the function logs only the exception's type and the line that raised it (a trace
    could carry a message's content into the logs); on your machine the traceback is what you
    need to fix it.
    """
    print(your_traceback(error), file=sys.stderr, flush=True)


def your_traceback(error: Exception) -> str:
    """The error's traceback from the first frame of your code on (the webhook's frames that
    call it are no part of the story), escaped line by line: its text may quote the message."""
    trace = error.__traceback__
    while trace is not None and not _yours(trace.tb_frame.f_code.co_filename):
        trace = trace.tb_next
    lines = traceback.format_exception(type(error), error, trace or error.__traceback__)
    printed = "".join(lines).rstrip("\n").split("\n")
    return "\n".join(map(escaped, printed))


def _yours(filename: str) -> bool:
    """Whether a frame runs your code: the project's, but for handler.py and sms_webhook/."""
    path = Path(filename).resolve()
    machinery = path == PROJECT / "handler.py" or path.is_relative_to(PROJECT / "sms_webhook")
    return is_project_code(path) and not machinery


def send_command(port: int) -> str:
    """The `make send` command for the server on `port` (without make, devtools.send's)."""
    if port == DEFAULT_PORT:
        return as_started("make send BODY=hours", "python -m devtools.send hours")
    return as_started(
        f"make send BODY=hours PORT={port}", f"python -m devtools.send hours --port {port}"
    )


def json_logs() -> str:
    """Where the function's JSON log lines go (devtools/serve.py's `log_aside`)."""
    if os.environ.get("LOG_JSON"):
        return "The function's JSON log lines are printed here too (LOG_JSON is set)."
    here = as_started("make run LOG_JSON=1", "LOG_JSON=1 python -m devtools.serve")
    return f"Its JSON log lines go to .local/{LOCAL_LOG.name} ({here} prints them here)."


def banner(port: int, token: str) -> str:
    fields = message_fields("Hello from curl")
    header = f"X-Twilio-Signature: {twilio_signature(signed_url(port), fields, token)}"
    data = shlex.quote(form_encode(fields))
    curl = f"curl -i {local_url(port)} -H {shlex.quote(header)} --data {data}"
    pid = os.getpid()
    if token == development_token():
        checked = (
            "Signatures are checked with the public test token from env.json, so only requests\n"
            "made on this machine are answered; through a tunnel they are rejected (403)."
        )
        tunnel_steps = [
            "Restart this with your token:  TWILIO_AUTH_TOKEN=<your auth token> "
            + serve_command(port),
        ]
        send_note = ""
    else:
        checked = "Signatures are checked with your TWILIO_AUTH_TOKEN: tunnels are welcome."
        tunnel_steps = []
        send_note = " (with the same TWILIO_AUTH_TOKEN)"
    tunnel_steps += [
        f"In another terminal:  ngrok http {port}",
        'In the Twilio console, set your number\'s "A message comes in" webhook to\n'
        "     https://<the tunnel's host>/sms  (HTTP POST)",
    ]
    steps = "\n".join(f"  {number}. {step}" for number, step in enumerate(tunnel_steps, 1))
    return f"""
Twilio SMS webhook listening on {local_url(port)}
{checked}
It restarts by itself when replies.py, handler.py or sms_webhook/ change.
{json_logs()}
Stop it with Ctrl-C, or: kill {pid}

Text it from another terminal{send_note}:
  {send_command(port)}
or with curl, signed as Twilio signs it (answers 200 with TwiML):
  {curl}
A forged one is rejected (403):
  curl -i {local_url(port)} -H 'X-Twilio-Signature: forged' --data 'Body=hi'

Take real texts through a tunnel:
{steps}
"""
