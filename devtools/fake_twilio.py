"""Twilio's REST API on this machine, for the tests and the benchmark: each request recorded as
Twilio's servers would receive it, and answered from a recording of Twilio's answers.

`TwilioMessages` is the Messages resource, reached in two ways: as twilio's own `HttpClient`, in
the process that sends (the tests hand it to the worker's REST client), or over HTTP on loopback
(`serving`), from another process (the benchmark's worker, whose client sends there instead of to
api.twilio.com). Either way the same answers, and the same record.
"""

import base64
import contextlib
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs

from twilio.http import HttpClient
from twilio.http.response import Response

from devtools.paths import PROJECT

TWILIO_API = "https://api.twilio.com"
RESPONSES = PROJECT / "tests" / "twilio_api_responses"
"""Twilio's answers, as its API returns them (a message resource, a page of phone numbers...)."""

Form = dict[str, object]
"""A request's form as twilio's client hands it over: a value is a string, or a list of them."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: Form | None
    data: Form | None
    auth: tuple[str, str] | None


class RecordingClient(HttpClient):  # type: ignore[misc]  # twilio ships no type information
    """twilio's `HttpClient` interface, each request recorded and answered by `answer`."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False)
        self.requests: list[Request] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Form | None = None,
        data: Form | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append(Request(method, url, params, data, auth))
        return self.answer(method, data)

    def answer(self, method: str, data: Form | None) -> Response:
        raise NotImplementedError


Outcome = Literal[201] | tuple[int, int] | BaseException
"""How Twilio answers one request: 201 (sent), an error as (status, Twilio code), or an exception
raised in the client (the network failing, the process dying after Twilio took the message)."""


class TwilioMessages(RecordingClient):
    """The Messages resource: each POST answered by the next of `outcomes` (201 once they run out),
    each recorded as Twilio would receive it."""

    def __init__(self, outcomes: Iterable[Outcome] = ()) -> None:
        super().__init__()
        self.outcomes = list(outcomes)

    def answer(self, method: str, data: Form | None) -> Response:
        outcome = self.outcomes.pop(0) if self.outcomes else 201
        if isinstance(outcome, tuple):
            status, code = outcome
            error = {"code": code, "message": "refused", "more_info": "", "status": status}
            return Response(status, json.dumps(error))
        if isinstance(outcome, BaseException):
            raise outcome
        sid = f"SM{len(self.requests):032x}"
        return Response(201, json.dumps({**load("message"), **_echoed(data or {}), "sid": sid}))

    @property
    def forms(self) -> list[Form | None]:
        """The form of each request, as Twilio received it."""
        return [request.data for request in self.requests]


def _echoed(data: Form) -> Form:
    return {"to": data.get("To"), "from": data.get("From"), "body": data.get("Body")}


def load(name: str) -> dict[str, object]:
    """One of Twilio's answers in `RESPONSES`: `load("message")`."""
    answer: dict[str, object] = json.loads((RESPONSES / f"{name}.json").read_text())
    return answer


class _Server(ThreadingHTTPServer):
    api: RecordingClient


class _Handler(BaseHTTPRequestHandler):
    """A request over HTTP handed to the server's `api` as twilio's client would hand it over,
    and its answer written back."""

    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        answer = self.server.api.request(
            self.command,
            TWILIO_API + self.path,
            data={name: values[0] if len(values) == 1 else values for name, values in form.items()},
            auth=_credentials(self.headers.get("Authorization") or ""),
        )
        text = answer.text.encode()
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: no line for each request (the benchmark prints only its tables)."""


def _credentials(authorization: str) -> tuple[str, str] | None:
    """The account and secret of a Basic `Authorization` header, as twilio's client had them."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic":
        return None
    account, _, secret = base64.b64decode(encoded).decode().partition(":")
    return account, secret


@contextlib.contextmanager
def serving(api: RecordingClient) -> Iterator[int]:
    """`api` over HTTP on loopback (plain HTTP, a thread per request): its port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = api
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
