"""`make run`: the webhook served on loopback, reached over real HTTP as through a tunnel."""

import http.client
import re
import shlex
import threading

import pytest
from twilio_requests import SMS, TOKEN, form, signature

import handler
from devtools.serve import WebhookServer, banner

TUNNEL_HOST = "abcd-1234.ngrok-free.app"


@pytest.fixture
def server():
    server = WebhookServer(0, handler.lambda_handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def post(server, body: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.request(
        "POST",
        "/sms",
        body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    return connection.getresponse()


def test_signed_request_through_a_tunnel_is_answered_with_twiml(server):
    headers = {
        "Host": TUNNEL_HOST,
        "X-Twilio-Signature": signature(f"https://{TUNNEL_HOST}/sms", SMS),
    }

    response = post(server, form(SMS), headers)

    assert response.status == 200
    assert response.getheader("Content-Type") == "text/xml"
    assert response.read().decode().startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_forwarded_host_is_the_public_host_when_a_tunnel_rewrites_host(server):
    headers = {
        "X-Forwarded-Host": TUNNEL_HOST,
        "X-Twilio-Signature": signature(f"https://{TUNNEL_HOST}/sms", SMS),
    }

    assert post(server, form(SMS), headers).status == 200


def test_forged_request_through_a_tunnel_is_refused_with_403(server):
    headers = {"Host": TUNNEL_HOST, "X-Twilio-Signature": "forged"}

    response = post(server, form(SMS), headers)

    assert response.status == 403
    assert b"<Response" not in response.read()


def test_the_printed_curl_command_is_answered_with_twiml(server):
    printed = banner(server.server_port, TOKEN)
    curl = shlex.split(re.search(r"^\s*(curl -i \S+ -H .+)$", printed, re.MULTILINE)[1])
    signature_header = curl[curl.index("-H") + 1].split(": ", 1)
    body = curl[curl.index("--data") + 1]

    response = post(server, body, dict([signature_header]))

    assert response.status == 200
    assert b"<Message" in response.read()


def test_banner_says_how_to_reach_it_through_a_tunnel():
    printed = banner(3000, TOKEN)

    assert "http://127.0.0.1:3000/sms" in printed
    assert "ngrok http 3000" in printed
