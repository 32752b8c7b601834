"""The webhook on your machine: each HTTP request becomes the event API Gateway would send.

    make run                  # or: python -m devtools.serve   (PORT=8080 to change the port)

The event is the one a REST API on a custom domain makes: the host is taken from
`X-Forwarded-Host`, else `Host`, so a request that comes through a tunnel (ngrok, cloudflared) is
checked against the tunnel's public URL, the one Twilio signed.
"""

import base64
import os
import shlex
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

from devtools.local_token import development_token, local_token
from devtools.rest_event import rest_event
from devtools.twilio_message import form_encode, message_fields, twilio_signature

DEFAULT_PORT = 3000


class LocalContext:
    """The parts of Lambda's context object that the function and Powertools read."""

    function_name = "WebhookFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:WebhookFunction"
    aws_request_id = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


class WebhookRequestHandler(BaseHTTPRequestHandler):
    server_version = "twilio-sms-webhook-local"

    def do_request(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)
        forwarded_host = (self.headers.get("X-Forwarded-Host") or "").split(",")[0].strip()
        domain = forwarded_host or self.headers.get("Host") or ""
        event = rest_event(
            self.command,
            target.path,
            domain=domain,
            headers=list(self.headers.items()),
            query=target.query,
            body=body,
        )
        self._send(self.server.function(event, LocalContext()))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    def _send(self, response: dict) -> None:
        body = response.get("body") or ""
        payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        self.send_response(int(response["statusCode"]))
        for name, values in (response.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        for name, value in (response.get("headers") or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class WebhookServer(HTTPServer):
    """Serves one request at a time, as one Lambda instance does; on loopback only, since the
    tunnel, not the network, is what reaches it."""

    def __init__(self, port: int, function: Callable[[dict, LocalContext], dict]):
        super().__init__(("127.0.0.1", port), WebhookRequestHandler)
        self.function = function


def banner(port: int, token: str) -> str:
    local_url = f"http://127.0.0.1:{port}/sms"
    signed_url = os.environ.get("TWILIO_WEBHOOK_URL") or f"https://127.0.0.1:{port}/sms"
    fields = message_fields("Hello from curl")
    header = f"X-Twilio-Signature: {twilio_signature(signed_url, fields, token)}"
    curl = f"curl -i {local_url} -H {shlex.quote(header)} --data {shlex.quote(form_encode(fields))}"
    whose = (
        "the public test token from env.json"
        if token == development_token()
        else "your TWILIO_AUTH_TOKEN"
    )
    return f"""
Twilio SMS webhook listening on {local_url}
Signatures are checked with {whose}.

Take real texts through a tunnel:
  1. In another terminal:  ngrok http {port}
  2. In the Twilio console, set your number's "A message comes in" webhook to
     https://<the tunnel's host>/sms  (HTTP POST)
  3. Restart this with your token:  TWILIO_AUTH_TOKEN=<your auth token> make run

Try it now with a request signed as Twilio signs it (answers 200 with TwiML):
  {curl}
A forged one is refused (403):
  curl -i {local_url} -H 'X-Twilio-Signature: forged' --data 'Body=hi'
"""


def main() -> None:
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    token = local_token()
    os.environ["TWILIO_AUTH_TOKEN"] = token
    import handler  # once the environment it reads is set

    server = WebhookServer(port, handler.lambda_handler)
    print(banner(port, token), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
