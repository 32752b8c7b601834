"""Rejections are logged and counted; a flood of them does not buy a log line each."""

import pytest

from sms_webhook import rejections
from sms_webhook.proxy_event import read_request
from sms_webhook.rejections import BURST, RejectionLog
from sms_webhook.signature import Rejection
from tests.support.twilio_requests import rest_request

REQUEST = read_request(rest_request())


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand."""
    now = [1000.0]
    monkeypatch.setattr(rejections.time, "monotonic", lambda: now[0])
    return now


def total(published, rejection: str) -> float:
    return sum(
        m["value"]
        for m in published()
        if m.get("rejection") == rejection and m["name"] == "SignatureRejections"
    )


def test_each_rejection_is_logged_with_its_reason_and_url(logs, clock):
    RejectionLog().record(REQUEST, Rejection.MISMATCH)

    [record] = logs.records
    assert record["message"] == "request rejected"
    assert record["reason"] == "signature does not match the URL and fields"
    assert record["url"] == "https://abc123defg.execute-api.us-east-1.amazonaws.com/Prod/sms"


def test_each_logged_rejection_counts_one_rejection_by_reason(published, clock):
    RejectionLog().record(REQUEST, Rejection.EMPTY)

    [metric] = published()
    assert (metric["name"], metric["value"], metric["rejection"]) == (
        "SignatureRejections",
        1.0,
        "empty",
    )


def test_past_the_burst_rejections_in_the_same_second_are_counted_not_logged(logs, clock):
    log = RejectionLog()

    for _ in range(BURST + 5):
        log.record(REQUEST, Rejection.MISMATCH)

    assert len(logs.records) == BURST


def test_the_next_line_of_a_reason_carries_the_rejections_it_stands_for(logs, clock, published):
    log = RejectionLog()
    for _ in range(BURST + 5):
        log.record(REQUEST, Rejection.MISMATCH)
    clock[0] += 1

    log.record(REQUEST, Rejection.MISMATCH)

    assert logs.records[-1]["rejections"] == 6
    assert total(published, "mismatch") == BURST + 6


def test_rejections_left_unlogged_are_logged_once_their_second_is_over(logs, clock, published):
    log = RejectionLog()
    for _ in range(BURST):
        log.record(REQUEST, Rejection.MISMATCH)
    log.record(REQUEST, Rejection.MISSING)
    log.record(REQUEST, Rejection.MISSING)
    log.catch_up()
    clock[0] += 1

    log.catch_up()

    record = logs.records[-1]
    assert (record["message"], record["reason"], record["rejections"]) == (
        "requests rejected while logging paused",
        "missing X-Twilio-Signature header",
        2,
    )
    assert total(published, "missing") == 2


def test_catching_up_with_nothing_left_logs_nothing(logs, clock):
    RejectionLog().catch_up()

    assert logs.records == []


def test_a_flood_through_the_handler_is_counted_exactly(invoke, logs, published, clock):
    for _ in range(50):
        invoke(rest_request())
    clock[0] += 1
    invoke(rest_request())

    assert [record["message"] for record in logs.records[BURST:]] == [
        "requests rejected while logging paused",
        "request rejected",
    ]
    assert total(published, "missing") == 51
