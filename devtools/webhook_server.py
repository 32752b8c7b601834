"""`make run`'s HTTP server: each request becomes the event API Gateway would send the function,
and the function's answer becomes the response.

The event is the one a REST API on a custom domain makes: the host is taken from
`X-Forwarded-Host`, else `Host`, so a request that comes through a tunnel (ngrok, cloudflared) is
checked against the tunnel's public URL, the one Twilio signed. With the public test token, only
requests made on this machine reach the function (devtools/loopback.py).

Each request has a thread of its own, and a client that sends nothing for `CLIENT_TIMEOUT` seconds
is dropped: one client cannot keep the others waiting. The function keeps each request's clock
and origin in context variables, so requests at once are answered right; Powertools' logger keeps
one correlation id for the process, which the JSON lines of overlapping requests share.
"""

import base64
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from devtools.console import escaped, request_line
from devtools.lambda_context import LambdaContext
from devtools.later_jobs import LaterJobs
from devtools.local_token import development_token, local_token
from devtools.loopback import LOCAL_ONLY, is_local_request
from devtools.proxy_events import Event, Stamp, Target, rest_event

if TYPE_CHECKING:
    from devtools.phone_server import PhoneApp

Answer = dict[str, Any]
"""What the function answers API Gateway: `statusCode`, `headers`, `multiValueHeaders`, `body`
and `isBase64Encoded` (the REST API's proxy integration)."""

LOCAL_ONLY_REFUSAL: Answer = {
    "statusCode": 403,
    "headers": {"Content-Type": "text/plain"},
    "body": LOCAL_ONLY,
    "isBase64Encoded": False,
}


CANNOT_IMPORT = "Internal Server Error: the webhook's code cannot be imported"
"""What a request made on this machine is answered while the function's code cannot be imported,
before why (`replies.py:12: SyntaxError: invalid syntax`): `make send` says so at once. From
elsewhere, a plain `Internal Server Error`, as deployed."""


def cannot_import_answer(reason: str, local: bool) -> Answer:
    return {
        "statusCode": 500,
        "headers": {"Content-Type": "text/plain"},
        "body": f"{CANNOT_IMPORT}: {reason}" if local else "Internal Server Error",
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
        if self.server.phone is not None and self.server.phone.serves(target.path):
            self.server.phone.handle(self, target, body)  # `make phone`'s page, not the function
            return
        # Later handlers run once the answer is out; a restart waits for the answers in hand.
        with self.server.later_jobs.until_answered(), self.server.answering():
            response = self._answer(target, body)
            status = int(response["statusCode"])
            payload = response_payload(response)
            # Printed before the answer leaves: whoever reads the answer finds the line already out.
            print(request_line(self.command, target, body, status, payload), flush=True)
            self._send(status, response, payload)

    def _answer(self, target: SplitResult, body: bytes) -> Answer:
        """The function's answer, or the refusal of a request from a tunnel (public token)."""
        if self.server.local_only and not is_local_request(self.headers):
            return LOCAL_ONLY_REFUSAL
        if isinstance(self.server.function, str):
            return cannot_import_answer(self.server.function, is_local_request(self.headers))
        forwarded_host = (self.headers.get("X-Forwarded-Host") or "").split(",")[0].strip()
        event = rest_event(
            self.command,
            Target(forwarded_host or self.headers.get("Host") or "", target.path),
            headers=self.headers.items(),
            query=target.query,
            body=body,
            stamp=Stamp.now(),
        )
        return self.server.function(event, LambdaContext(request_id=str(uuid.uuid4())))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Left out: `do_request` prints a line of its own for each request."""

    def log_message(self, format: str, *args: object) -> None:
        """http.server's own lines (a malformed request, one that timed out), escaped as ours."""
        line = f"{self.address_string()} - {format % args}"
        print(escaped(line), file=sys.stderr, flush=True)

    def _send(self, status: int, response: Answer, payload: bytes) -> None:
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
        self, listen: int | socket.socket, function: Callable[[Event, LambdaContext], Answer] | str
    ):
        """`listen` is the port to listen on, or a socket already listening on loopback (the one
        `make run` keeps across restarts). `function` is the function, or why its code cannot
        be imported (`replies.py:12: SyntaxError: ...`): then every request is answered 500."""
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
        """When this server's local run starts a job for later (`serve.local_run_here`)."""
        self.phone: PhoneApp | None = None
        """`make phone`'s page and its routes, when it is served too (devtools/phone_server.py)."""
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


def response_payload(response: Answer) -> bytes:
    """The bytes of the function's answer, which API Gateway would decode from base64 if flagged."""
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
