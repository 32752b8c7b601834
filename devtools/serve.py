"""The webhook on your machine: each HTTP request becomes the event API Gateway would send.

    make run                  # or: python -m devtools.serve   (PORT=8080 to change the port)

The event is the one a REST API on a custom domain makes: the host is taken from
`X-Forwarded-Host`, else `Host`, so a request that comes through a tunnel (ngrok, cloudflared) is
checked against the tunnel's public URL, the one Twilio signed.

Without `TWILIO_AUTH_TOKEN`, signatures are checked with the public test token in env.json, which
anybody can sign with: then only requests made on this machine are handed to the function, and one
that arrives through a tunnel is refused here (403) with a word on setting the token.

A handler that runs later runs in the server process once the webhook has answered, as the
worker would after the queue, and what it sends (and every text sent first, `send_text`) goes to
the local outbox, `.local/outbox.jsonl` (`OUTBOX_FILE`), never to Twilio or the deployed queue:
each text is printed when it is put there, `sent to +1…34#5f2c9a1e ⇒ "Your report: ..."`. A
restart stops the later replies still running, and says so.

The server restarts when the function's code changes (devtools/supervise.py): this process keeps
the listening socket, so requests wait through a restart, and runs the server in a child process
(`--listen-fd`), which prints a line a person can read for each request and, on this machine only,
the traceback of an exception raised by reply code: escaped, whatever the request held.

Each request has a thread of its own, and a client that sends nothing for `CLIENT_TIMEOUT` seconds
is dropped: one client cannot keep the others waiting. The function keeps each request's clock
and origin in context variables, so requests at once are answered right; Powertools' logger keeps
one correlation id for the process, which the JSON lines of overlapping requests share.
"""

import argparse
import base64
import errno
import functools
import ipaddress
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from devtools.function_code import import_handler
from devtools.lambda_context import LambdaContext
from devtools.later_jobs import LaterJobs
from devtools.local_token import development_token, local_token
from devtools.paths import LOCAL_CONVERSATIONS, LOCAL_OUTBOX, PROJECT, own_local_folder_for
from devtools.proxy_events import Stamp, Target, rest_event
from devtools.supervise import supervise
from devtools.twilio_message import (
    ACCOUNT_SID,
    TWILIO_NUMBER,
    form_encode,
    message_fields,
    twilio_signature,
)
from devtools.twiml_answer import NotTwimlError, twiml_messages
from sms_webhook.form import parse_form
from sms_webhook.message import IncomingMessage
from sms_webhook.telemetry import pseudonym

if TYPE_CHECKING:  # the supervisor process needs no more of the function than it must
    from sms_webhook.local_run import LocalRun
    from sms_webhook.sending import Outgoing

DEFAULT_PORT = 3000
MAX_PORT = 65535

PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "Via")
"""Headers a proxy or tunnel adds to what it forwards."""

LOCAL_ONLY = (
    "Forbidden: make run checks signatures with the public test token, so it answers only requests "
    "made on this machine (to 127.0.0.1 or localhost). To take requests through a tunnel, restart "
    "it with your own token: TWILIO_AUTH_TOKEN=<your auth token> make run"
)
LOCAL_ONLY_REFUSAL = {
    "statusCode": 403,
    "headers": {"Content-Type": "text/plain"},
    "body": LOCAL_ONLY,
    "isBase64Encoded": False,
}


CLIENT_TIMEOUT = 5
"""Seconds a client may send nothing while its request is read (or its answer written): then it
is dropped, with a `Request timed out` line. A client that sends half a request and waits holds
only its own thread meanwhile."""


class WebhookRequestHandler(BaseHTTPRequestHandler):
    server: "WebhookServer"
    server_version = "twilio-sms-webhook-local"
    timeout = CLIENT_TIMEOUT

    def do_request(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)
        # Later handlers run once the answer is out; a restart waits for the answers in hand.
        with self.server.later_jobs.until_answered(), self.server.answering():
            response = self._answer(target, body)
            status = int(response["statusCode"])
            payload = response_payload(response)
            # Printed before the answer leaves: whoever reads the answer finds the line already out.
            print(request_line(self.command, target, body, status, payload), flush=True)
            self._send(status, response, payload)

    def _answer(self, target: SplitResult, body: bytes) -> dict:
        """The function's answer, or the refusal of a request from a tunnel (public token)."""
        if self.server.local_only and not is_local_request(self.headers):
            return LOCAL_ONLY_REFUSAL
        forwarded_host = (self.headers.get("X-Forwarded-Host") or "").split(",")[0].strip()
        event = rest_event(
            self.command,
            Target(forwarded_host or self.headers.get("Host") or "", target.path),
            headers=self.headers.items(),
            query=target.query,
            body=body,
            stamp=Stamp.now(),
        )
        return self.server.function(event, LambdaContext())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Left out: `do_request` prints a line of its own for each request."""

    def log_message(self, format: str, *args: object) -> None:
        """http.server's own lines (a malformed request, one that timed out), escaped as ours."""
        line = f"{self.address_string()} - {format % args}"
        print(escaped(line), file=sys.stderr, flush=True)

    def _send(self, status: int, response: dict, payload: bytes) -> None:
        self.send_response(status)
        for name, values in (response.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        for name, value in (response.get("headers") or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a request queued while the server could not start, after a
            # syntax error): it was answered, just too late for it.
            line = f"{self.command} {self.path}: the client left before the answer"
            print(escaped(line), flush=True)


class WebhookServer(ThreadingHTTPServer):
    """Serves each request in a thread of its own, as Lambda runs concurrent requests in
    instances of their own: a slow client, or reply code that thinks for seconds, keeps no other
    request waiting. On loopback only, since the tunnel, not the network, is what reaches it."""

    daemon_threads = True
    """A client still sending when the server stops is dropped with it (`wait_for_answers`)."""

    def __init__(
        self, listen: int | socket.socket, function: Callable[[dict, LambdaContext], dict]
    ):
        """`listen` is the port to listen on, or a socket already listening on loopback (the one
        `make run` keeps across restarts)."""
        if isinstance(listen, socket.socket):
            super().__init__(listen.getsockname(), WebhookRequestHandler, bind_and_activate=False)
            self.socket.close()
            self.socket = listen
            self.server_port = listen.getsockname()[1]
        else:
            super().__init__(("127.0.0.1", listen), WebhookRequestHandler)
        self.function = function
        self.local_only = local_token() == development_token()
        self.later_jobs = LaterJobs()
        """How this server runs later handlers, once `run_later_replies_here` says it does."""
        self._answers = 0
        self._answered = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """A request read whole, being answered: a restart waits for its answer."""
        with self._answered:
            self._answers += 1
        try:
            yield
        finally:
            with self._answered:
                self._answers -= 1
                self._answered.notify_all()

    def wait_for_answers(self) -> None:
        """Until every request read whole has been answered (a stopped server reads no more)."""
        with self._answered:
            self._answered.wait_for(lambda: self._answers == 0)


def local_run_here(server: WebhookServer) -> "LocalRun":
    """This process's local run: jobs for later (`sms_webhook/later.py`) run here, each once the
    answer to its message is out; each text put in the outbox is printed, and so is the
    traceback of each error of reply code."""
    from sms_webhook.local_run import LocalRun

    run = LocalRun(start=server.later_jobs.start, on_error=print_traceback)
    run.listeners.append(lambda outgoing: print(sent_line(outgoing), flush=True))
    return run


def response_payload(response: dict) -> bytes:
    """The bytes of the function's answer, which API Gateway would decode from base64 if flagged."""
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def is_loopback(host: str) -> bool:
    """Whether a Host header (a name or an address, with or without a port) names this machine."""
    if host.startswith("["):
        name, bracket, _ = host[1:].partition("]")
        name = name if bracket else ""
    else:
        name = host.rpartition(":")[0] if ":" in host else host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_local_request(headers: Message) -> bool:
    """Whether the request was made on this machine, not through a tunnel.

    A tunnel's client connects from loopback too, so the headers are all there is to tell by:
    every host the request names (`Host`, and each in `X-Forwarded-Host`, which a caller may set
    as it likes) must be loopback, and no proxy may have marked it as forwarded.
    """
    forwarded_hosts = headers.get_all("X-Forwarded-Host") or []
    hosts = [
        *(headers.get_all("Host") or []),
        *(host.strip() for value in forwarded_hosts for host in value.split(",")),
    ]
    forwarded = any(headers.get(name) is not None for name in PROXY_HEADERS)
    return bool(hosts) and all(map(is_loopback, hosts)) and not forwarded


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
        return "(no reply)"
    return " | ".join(_shown(message.text, message.media) for message in messages)


def sent_line(outgoing: "Outgoing") -> str:
    """The line a person reads for a text put in the local outbox: to whom, as request lines
    show senders, and what. `sent to +1…34#5f2c9a1e ⇒ "Your report: ..."`"""
    who = pseudonym(outgoing.to, local_token())
    return escaped(f"sent to {who} ⇒ {_shown(outgoing.body, outgoing.media)}")


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
    """The traceback of an error of reply code (or of the webhook's own), from the first frame
    of your code on, printed escaped, line by line (its text may quote the message).

    Deployed, the function logs only the exception's type and the line that raised it (a trace
    could carry a message's content into the logs); on your machine the traceback is what you
    need to fix it.
    """
    trace = error.__traceback__
    while trace is not None and _machinery(trace.tb_frame.f_code.co_filename):
        trace = trace.tb_next
    lines = traceback.format_exception(type(error), error, trace or error.__traceback__)
    printed = "".join(lines).rstrip("\n").split("\n")
    print("\n".join(map(escaped, printed)), file=sys.stderr, flush=True)


def _machinery(filename: str) -> bool:
    """Whether the frame is the webhook's own code, which calls yours: no part of the story."""
    path = Path(filename).resolve()
    return path == PROJECT / "handler.py" or path.is_relative_to(PROJECT / "sms_webhook")


def signed_url(port: int) -> str:
    """The URL the function checks a request to 127.0.0.1:`port` against: the one it rebuilds
    from the Host header, unless `TWILIO_WEBHOOK_URL` says otherwise."""
    return os.environ.get("TWILIO_WEBHOOK_URL") or f"https://127.0.0.1:{port}/sms"


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/sms"


def send_command(port: int) -> str:
    """The `make send` command for the server on `port`."""
    return "make send BODY=hours" + (f" PORT={port}" if port != DEFAULT_PORT else "")


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
            "Restart this with your token:  TWILIO_AUTH_TOKEN=<your auth token> make run",
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


def use_local_outbox() -> None:
    """Later replies and texts sent first go to the outbox (`OUTBOX_FILE`, by default
    `.local/outbox.jsonl`), never to the deployed queue a shell may name; texts sent first come
    from the sample Twilio number unless `SEND_FROM` and `TWILIO_ACCOUNT_SID` say otherwise."""
    outbox = Path(os.environ.get("OUTBOX_FILE", "").strip() or LOCAL_OUTBOX)
    os.environ["OUTBOX_FILE"] = str(outbox)
    os.environ.pop("LATER_QUEUE_URL", None)
    os.environ.setdefault("SEND_FROM", TWILIO_NUMBER)
    os.environ.setdefault("TWILIO_ACCOUNT_SID", ACCOUNT_SID)


def function_files() -> list[Path]:
    """The code the server runs: a change to any of it restarts the server."""
    return [
        PROJECT / "replies.py",
        PROJECT / "handler.py",
        *sorted((PROJECT / "sms_webhook").glob("*.py")),
    ]


def port_number(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"PORT must be a number from 0 to 65535, not {value!r}")
    return int(value)


def add_port_argument(parser: argparse.ArgumentParser) -> None:
    """`--port`, by default the `PORT` environment variable, else 3000."""
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("PORT") or str(DEFAULT_PORT),
        help=f"the port on 127.0.0.1 (default: $PORT, else {DEFAULT_PORT})",
    )


def cannot_listen(port: int, error: OSError) -> str:
    """One line on why the port cannot be used, and what to run instead."""
    if error.errno == errno.EADDRINUSE:
        other = port + 1 if port < MAX_PORT else DEFAULT_PORT
        return f"port {port} is in use: make run PORT={other}"
    reason = error.strerror or str(error)
    return f"cannot listen on 127.0.0.1:{port} ({reason}): make run PORT={DEFAULT_PORT + 1}"


def start_server(listening: socket.socket) -> subprocess.Popen:
    """The server process, serving on the supervisor's socket, with a pipe on its stdin that
    closes when the supervisor is gone."""
    descriptor = listening.fileno()
    # Ctrl-C reaches every process of the terminal's group; this one stops the server itself.
    # Blocked while the server process starts, SIGINT stays blocked in it (the signal mask
    # survives exec) until `serve` ignores it, and here it is delivered once Popen returns.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "devtools.serve", "--listen-fd", str(descriptor)],
            cwd=PROJECT,
            pass_fds=(descriptor,),
            stdin=subprocess.PIPE,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def serve(listening: socket.socket) -> None:
    """The server process: imports the function afresh and serves it until stopped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops this process on Ctrl-C
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_when_the_supervisor_is_gone, daemon=True).start()
    sys.stdout.reconfigure(line_buffering=True)
    handler = import_handler()  # or one line on why not: the supervisor waits for a fix
    from sms_webhook import local_run

    server = WebhookServer(listening, handler.lambda_handler)
    # Stopped for a restart, the server answers the requests in hand first (requests not yet
    # accepted wait in the socket's queue for the next server). `shutdown` waits for the loop,
    # so it is called from another thread; the loop looks for it every 0.1 s.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with local_run.using(local_run_here(server)):
        server.serve_forever(poll_interval=0.1)
        server.wait_for_answers()
    if running := server.later_jobs.wait(0):  # their threads end with this process
        replies = "1 later reply" if running == 1 else f"{running} later replies"
        print(f"{replies} still running, stopped with the server: nothing sent", flush=True)


def _exit_when_the_supervisor_is_gone() -> None:
    """Whether the supervisor stopped or was killed, its end of the pipe closes. (Unbuffered
    reads: a thread blocked in the buffered `sys.stdin` would hold its lock at shutdown.)"""
    while os.read(sys.stdin.fileno(), 512):
        pass
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.serve",
        description="Serve the webhook on http://127.0.0.1:PORT/sms (what `make run` does), "
        "restarting it when replies.py, handler.py or sms_webhook/ change.",
        epilog="The token is TWILIO_AUTH_TOKEN if set, else env.json's public test token "
        "(then only requests made on this machine are answered). TWILIO_WEBHOOK_URL gives the "
        "URL Twilio signs, when a tunnel rewrites the host.",
    )
    add_port_argument(parser)
    parser.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.listen_fd is not None:
        serve(socket.socket(fileno=arguments.listen_fd))
        return
    try:
        listening = socket.create_server(("127.0.0.1", arguments.port))
    except OSError as error:
        raise SystemExit(cannot_listen(arguments.port, error)) from None
    port = listening.getsockname()[1]
    token = local_token()
    os.environ["TWILIO_AUTH_TOKEN"] = token  # for the server processes
    os.environ.setdefault("CONVERSATION_FILE", str(LOCAL_CONVERSATIONS))
    use_local_outbox()
    own_local_folder_for(Path(os.environ["CONVERSATION_FILE"]), Path(os.environ["OUTBOX_FILE"]))
    supervise(
        functools.partial(start_server, listening),
        function_files,
        PROJECT,
        started=lambda: print(banner(port, token), flush=True),
    )
    listening.close()
    print(f"stopped: nothing listens on {local_url(port)} any more", flush=True)


if __name__ == "__main__":
    main()
