"""Twilio's REST API as twilio's own `HttpClient` interface sees it: answers from JSON files in
`tests/twilio_api_responses/`, and a record of every request, as Twilio's servers would receive
it."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from twilio.http import HttpClient
from twilio.http.response import Response

RESPONSES = Path(__file__).parent.parent / "twilio_api_responses"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
NUMBER = "+15005550006"
NUMBER_SID = "PN0123456789abcdef0123456789abcdef"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
Form = dict[str, Any]
"""A request's query or form, as twilio's client hands it over."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: Form | None
    data: Form | None
    auth: tuple[str, str] | None


class RecordingClient(HttpClient):  # type: ignore[misc]  # twilio ships no types
    """twilio's `HttpClient` interface, each request recorded and answered by `answer`."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False)
        self.requests: list[Request] = []

    def request(
        self,
        method: str,
        url: str,
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


class RecordingTwilio(RecordingClient):
    """An account that owns `NUMBER` (its SMS webhook at `sms_url`), or no number at all."""

    def __init__(
        self,
        sms_url: str | None = "https://demo.twilio.com/welcome/sms/reply",
        sms_method: str = "POST",
        status: int = 200,
    ):
        super().__init__()
        self.number = {
            **_load("incoming_phone_number"),
            "sms_url": sms_url,
            "sms_method": sms_method,
        }
        self.owns_number = sms_url is not None
        self.status = status

    def answer(self, method: str, data: Form | None) -> Response:
        if self.status >= 400:
            return Response(
                self.status,
                json.dumps({"code": 20003, "message": "Authenticate", "status": self.status}),
            )
        if method == "GET":
            page = _load("incoming_phone_numbers")
            page["incoming_phone_numbers"] = [self.number] if self.owns_number else []
            return Response(200, json.dumps(page))
        assert data is not None  # a POST, with its form
        updated = {**self.number, "sms_url": data["SmsUrl"], "sms_method": data["SmsMethod"]}
        return Response(200, json.dumps(updated))

    @property
    def changes(self) -> list[Request]:
        return [request for request in self.requests if request.method == "POST"]


class Crash(BaseException):
    """The worker's process dying: no `except Exception` sees it, as none would see a kill."""


Outcome = Literal[201] | tuple[int, int] | BaseException
"""How Twilio answers one request: 201 (sent), an error as (status, Twilio code), or an exception
raised in the client (the network failing, the process dying after Twilio took the message)."""


class TwilioMessages(RecordingClient):
    """The Messages resource: each POST answered by the next of `outcomes` (201 once they run out),
    each recorded as Twilio would receive it."""

    def __init__(self, outcomes: Iterable[Outcome] = ()):
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
        assert data is not None  # a POST, with its form
        return Response(201, json.dumps({**_load("message"), **_echoed(data), "sid": sid}))

    @property
    def forms(self) -> list[Form]:
        """The form of each request (each a POST, with a form), as Twilio received it."""
        return [request.data for request in self.requests if request.data is not None]


def _echoed(data: Form) -> dict[str, Any]:
    return {"to": data.get("To"), "from": data.get("From"), "body": data.get("Body")}


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RESPONSES / f"{name}.json").read_text())
    return loaded
