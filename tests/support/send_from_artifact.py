"""Sends a text with twilio's REST client as an artifact carries it, for test_build.py's test.

    cd <artifact> && PYTHONPATH=<artifact> \
        python -S tests/support/send_from_artifact.py AC… TO FROM BODY

`-S` and the PYTHONPATH leave the interpreter the standard library and the artifact alone: a
module the REST client needs and the artifact lacks is missing here too. The request goes the
whole way through twilio's `TwilioHttpClient` and requests to the transport, where an adapter
records it and answers as Twilio's API does instead of opening a connection: no network. Prints
the request and the file each module of the way was imported from, as one JSON line.
"""

import io
import json
import sys
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3 import HTTPResponse

THE_WAY = ("twilio.rest", "requests", "urllib3", "idna", "certifi", "charset_normalizer")


class RecordingAdapter(HTTPAdapter):
    """Twilio's Messages API at the transport: each request kept, each message queued."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[PreparedRequest] = []

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.sent.append(request)
        answer = json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}).encode()
        raw = HTTPResponse(
            body=io.BytesIO(answer),
            status=201,
            headers={"Content-Type": "application/json; charset=utf-8"},
            preload_content=False,
        )
        return self.build_response(request, raw)


def main(account_sid: str, to: str, from_: str, body: str) -> None:
    adapter = RecordingAdapter()
    http_client = TwilioHttpClient()
    http_client.session.mount("https://", adapter)
    client = Client(account_sid, "a-token", http_client=http_client)
    message = client.messages.create(to=to, from_=from_, body=body)
    [request] = adapter.sent
    print(
        json.dumps(
            {
                "sid": message.sid,
                "method": request.method,
                "url": request.url,
                "body": request.body,
                "modules": {name: sys.modules[name].__file__ for name in THE_WAY},
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
