"""Threat: a text sent twice, or in pieces of two different texts.

`send_text` sends once per recipient and key, and a handler that runs again (a retry, a
conversation that changed while it ran) may build a different text under the same key: the
first text given is the one sent, whole, as a later reply's texts are. And a request Twilio got
may have sent its text whatever came back: only Twilio's own error answer, or a failure before
the request went out, lets the worker try again. Tested with twilio's real HTTP client against
HTTP servers on loopback, and with the recording stand-in of Twilio's API.
"""

import contextlib
import functools

import pytest

from sms_webhook import sending
from sms_webhook.twiml import split_message
from tests.support.loopback_twilio import LoopbackTwilio, loopback_server
from tests.support.worker_jobs import failed, reply_job, text_job, work

pytestmark = pytest.mark.usefixtures("idempotency_table", "later_queue")

SHORT = "Ada asks for an agent: her parcel has not come."
"""47 characters: one message."""
LONG = "Ada asks for an agent. " + "Here is everything she wrote. " * 150
"""Three messages' worth."""


def bodies(twilio_api) -> list[str]:
    return [form["Body"] for form in twilio_api.forms]


# Once per recipient and key, for a whole text


def test_a_second_text_with_the_same_key_sends_nothing_of_its_own(sending_account, twilio_api):
    work(text_job(key="agent-SM1", body=SHORT))
    work(text_job(key="agent-SM1", body=LONG))

    assert bodies(twilio_api) == [SHORT]


def test_a_text_cut_off_mid_way_is_finished_as_first_given(sending_account, twilio_api):
    first = LONG.replace("everything", "all")
    twilio_api.outcomes = [201, (503, 20503)]  # its first message sent, then Twilio is down
    work(text_job(key="agent-SM1", body=first))

    work(text_job(key="agent-SM1", body=LONG))  # the handler, run again on a changed conversation

    pieces = split_message(first)
    assert bodies(twilio_api) == [pieces[0], pieces[1], pieces[1], pieces[2]]  # one tried twice


# Possibly sent: never sent again


@pytest.fixture
def twilio_answering(monkeypatch):
    """Twilio's API as servers on loopback, each answering every request with the status line
    and body the test gives: the requests it read."""
    with contextlib.ExitStack() as servers:

        def serve(status_line: str, body: bytes) -> list[bytes]:
            requests_read = []

            def answer(connection):
                requests_read.append(connection.recv(65536))
                head = f"HTTP/1.1 {status_line}\r\nContent-Length: {len(body)}\r\n\r\n"
                connection.sendall(head.encode() + body)
                connection.close()

            port = servers.enter_context(loopback_server(answer))
            client = LoopbackTwilio(port)
            monkeypatch.setattr(sending, "http_client", functools.cache(lambda: client))
            return requests_read

        yield serve


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Created</body></html>", b"", b'{"sid": "SM0123', b'["SM0123"]'],
    ids=["html", "empty", "cut short", "no object"],
)
def test_a_text_twilio_took_with_an_answer_that_is_not_json_is_never_sent_again(
    twilio_answering, logs, published, body, answering_later
):
    requests_read = twilio_answering("201 Created", body)
    router = answering_later(lambda message: "Your report")

    first = work(reply_job(router))
    again = work(reply_job(router), receive_count=2)

    assert (failed(first), failed(again), len(requests_read)) == (0, 0, 1)
    assert [m["ErrorCode"] for m in published() if m["name"] == "LaterRepliesFailed"] == [
        "unreadable"
    ]
    assert "text may not have been sent: Twilio's answer could not be read" in logs.messages()


def test_an_error_answer_of_twilios_that_is_not_json_is_retried(
    twilio_answering, published, answering_later
):
    requests_read = twilio_answering("503 Service Unavailable", b"<html>Try later</html>")
    router = answering_later(lambda message: "Your report")

    answer = work(reply_job(router))

    assert (failed(answer), len(requests_read)) == (1, 1)
    assert [m["ErrorCode"] for m in published() if m["name"] == "LaterRepliesFailed"] == ["5xx"]
