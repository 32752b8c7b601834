"""Twilio's phone-number API as twilio's own `HttpClient` interface sees it, for `make connect` and
`make deploy`: answers from JSON files in `twilio_api_responses/`, and a record of every request,
as Twilio's servers would receive it. The Messages resource is `devtools.fake_twilio`'s, which the
benchmark shares."""

import json

from twilio.http.response import Response

from devtools.fake_twilio import Form, RecordingClient, Request, load

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
NUMBER = "+15005550006"
NUMBER_SID = "PN0123456789abcdef0123456789abcdef"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


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
            **load("incoming_phone_number"),
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
            page = load("incoming_phone_numbers")
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
