"""Threat: `make run` reachable through a tunnel, or by a client that misbehaves.

env.json's token is public, so anybody can sign a request with it. Without `TWILIO_AUTH_TOKEN`,
`make run` answers only requests made on this machine; through a tunnel it rejects them (403),
saying to set the token, and the function never runs. With your own token, tunnels work (see
test_local_server.py).

Whoever reaches the server (a tunnel's caller, a page in your browser) may also send half a
request and wait, which must not keep others from being answered, or put escape sequences in a
URL or a text, which must not reach your terminal as they are.
"""

import http.client
import socket

import pytest

from devtools.twilio_message import form_encode, twilio_signature
from tests.support.twilio_requests import SMS, TOKEN, with_fields

TUNNEL_HOST = "abcd-1234.ngrok-free.app"
SILENCE_ALLOWED = 5
"""Seconds a client may send nothing while the server waits for the rest of its request."""


@pytest.fixture
def server(public_token, local_server):
    """`make run` as started without TWILIO_AUTH_TOKEN."""
    return local_server


def post(server, token: str, signed_host: str, fields=SMS, **headers: str) -> tuple[int, str]:
    """Twilio's request with `fields`, signed with `token` for https://`signed_host`/sms:
    status, body. `headers` are written with `-` for `_` (`X_Forwarded_Host`)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.putrequest("POST", "/sms", skip_host=True)
    sent = {
        "Host": f"127.0.0.1:{server.server_port}",
        **{name.replace("_", "-"): value for name, value in headers.items()},
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(f"https://{signed_host}/sms", fields, token),
    }
    body = form_encode(fields).encode()
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


# A client that stalls, and what a request can make the terminal do


@pytest.fixture
def stalled_client(local_server):
    """A connection that sent the headers of a POST and half its body, then nothing."""
    client = socket.create_connection(("127.0.0.1", local_server.server_port), timeout=10)
    client.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nBody=half")
    yield client
    client.close()


def test_a_client_that_stalls_mid_request_does_not_stall_the_next(
    local_server, stalled_client, received
):
    status, _ = post(local_server, TOKEN, f"127.0.0.1:{local_server.server_port}")

    assert status == 200
    assert len(received) == 1
    stalled_client.setblocking(False)
    with pytest.raises(BlockingIOError):  # still connected, still stalled: not dropped first
        stalled_client.recv(1024)


@pytest.mark.slow
def test_a_client_that_stops_sending_is_dropped(local_server, stalled_client):
    """Dropped after the server's own timeout: the client would wait 10 s more."""
    stalled_client.settimeout(SILENCE_ALLOWED + 10)

    assert stalled_client.recv(1024) == b""


def test_escape_sequences_in_the_path_reach_the_terminal_escaped(local_server, capsys):
    client = socket.create_connection(("127.0.0.1", local_server.server_port), timeout=10)
    client.sendall(b"GET /sms\x1b]0;owned\x07\x1b[2J HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    client.recv(1024)
    client.close()

    printed = capsys.readouterr().out
    assert "/sms\\x1b]0;owned\\x07\\x1b[2J ⇒ 404" in printed
    assert "\x1b" not in printed


def test_control_and_bidi_characters_in_a_text_reach_the_terminal_escaped(local_server, capsys):
    fields = with_fields(SMS, Body="pay \u009b2J\u202eevil")

    post(local_server, TOKEN, f"127.0.0.1:{local_server.server_port}", fields)

    printed = capsys.readouterr().out
    assert '"pay \\x9b2J\\u202eevil"' in printed
    assert not {"\u009b", "\u202e"} & set(printed)
