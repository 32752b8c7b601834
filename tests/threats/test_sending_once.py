"""Threat: a text sent twice.

A request Twilio got may have sent its text whatever came back: only Twilio's own error answer,
or a failure before the request went out, lets the worker try again. Tested with twilio's real
HTTP client against HTTP servers on loopback.
"""

import contextlib
import functools

import pytest
from loopback_twilio import LoopbackTwilio, loopback_server
from worker_jobs import answering_later, failed, reply_job, work

from sms_webhook import sending

pytestmark = pytest.mark.usefixtures("idempotency_table", "later_queue")


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
    [b"<html><body>Created</body></html>", b"", b'{"sid": "SM0123'],
    ids=["html", "empty", "cut short"],
)
def test_a_text_twilio_took_with_an_answer_that_is_not_json_is_never_sent_again(
    twilio_answering, logs, published, body
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


def test_an_error_answer_of_twilios_that_is_not_json_is_retried(twilio_answering, published):
    requests_read = twilio_answering("503 Service Unavailable", b"<html>Try later</html>")
    router = answering_later(lambda message: "Your report")

    answer = work(reply_job(router))

    assert (failed(answer), len(requests_read)) == (1, 1)
    assert [m["ErrorCode"] for m in published() if m["name"] == "LaterRepliesFailed"] == ["5xx"]
