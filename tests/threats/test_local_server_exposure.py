"""Threat: `make run` with the public test token, reachable through a tunnel.

env.json's token is public, so anybody can sign a request with it. Without `TWILIO_AUTH_TOKEN`,
`make run` answers only requests made on this machine; through a tunnel it rejects them (403),
saying to set the token, and the function never runs. With your own token, tunnels work (see
test_local_server.py).
"""

import http.client

import pytest
from twilio_requests import SMS, TOKEN

from devtools.twilio_message import form_encode, twilio_signature

TUNNEL_HOST = "abcd-1234.ngrok-free.app"


@pytest.fixture
def server(public_token, local_server):
    """`make run` as started without TWILIO_AUTH_TOKEN."""
    return local_server


def post(server, public_token: str, signed_host: str, **headers: str) -> tuple[int, str]:
    """A request signed with the public token for https://`signed_host`/sms: status, body.
    `headers` are written with `-` for `_` (`X_Forwarded_Host`)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.putrequest("POST", "/sms", skip_host=True)
    sent = {
        "Host": f"127.0.0.1:{server.server_port}",
        **{name.replace("_", "-"): value for name, value in headers.items()},
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(f"https://{signed_host}/sms", SMS, public_token),
    }
    body = form_encode(SMS).encode()
    for name, value in [*sent.items(), ("Content-Length", str(len(body)))]:
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_a_request_through_a_tunnel_is_rejected_saying_to_set_the_token(
    server, public_token, received
):
    status, body = post(server, public_token, TUNNEL_HOST, Host=TUNNEL_HOST)

    assert status == 403
    assert "TWILIO_AUTH_TOKEN=<your auth token> make run" in body
    assert received == []


def test_a_tunnel_that_rewrites_host_and_forwards_it_is_rejected(server, public_token, received):
    status, _ = post(server, public_token, TUNNEL_HOST, X_Forwarded_Host=TUNNEL_HOST)

    assert status == 403
    assert received == []


def test_a_loopback_forwarded_host_claimed_through_a_tunnel_is_rejected(
    server, public_token, received
):
    loopback = f"127.0.0.1:{server.server_port}"

    status, _ = post(server, public_token, loopback, Host=TUNNEL_HOST, X_Forwarded_Host=loopback)

    assert status == 403
    assert received == []


@pytest.mark.parametrize(
    "proxy_header", ["X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"], ids=str.lower
)
def test_a_request_a_proxy_forwarded_to_a_loopback_host_is_rejected(
    server, public_token, received, proxy_header
):
    loopback = f"127.0.0.1:{server.server_port}"

    status, _ = post(server, public_token, loopback, **{proxy_header: "203.0.113.7"})

    assert status == 403
    assert received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_request_made_on_this_machine_is_answered(server, public_token, received, host):
    local_host = f"{host}:{server.server_port}"

    status, _ = post(server, public_token, local_host, Host=local_host)

    assert status == 200
    assert len(received) == 1


def test_with_your_own_token_a_request_through_a_tunnel_is_answered(local_server, received):
    status, _ = post(local_server, TOKEN, TUNNEL_HOST, Host=TUNNEL_HOST)

    assert status == 200
    assert len(received) == 1
