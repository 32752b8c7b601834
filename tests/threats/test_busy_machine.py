"""A busy machine is no AWS outage: time spent importing boto3 and building clients (seconds on a
loaded CPU, a cold start on a small Lambda) does not count against the time a request may wait on
AWS, so its records and its conversation are still written.

The clock is moved by hand when a client is built, as a loaded machine would move it; the calls
themselves go to the deployed stack's tables in a moto server on loopback.
"""

import json

import boto3
import pytest

from sms_webhook import deadlines
from tests.conftest import CONVERSATION_TABLE, IDEMPOTENCY_TABLE
from tests.support.twilio_requests import REST_URL, rest_request, signed


@pytest.fixture
def slow_to_build_clients(clock, monkeypatch):
    """Each AWS client takes most of the budget to build, as on a CPU shared with other work."""
    build = boto3.client

    def on_a_busy_machine(*arguments, **options):
        clock.advance(deadlines.AWS_BUDGET - 0.5)
        return build(*arguments, **options)

    monkeypatch.setattr(boto3, "client", on_a_busy_machine)


def test_a_conversation_is_saved_and_its_records_completed_when_clients_are_slow_to_build(
    deployed_on_loopback, real_deadlines, slow_to_build_clients, conversing, invoke
):
    response = invoke(signed(rest_request(), REST_URL))

    assert ">ok</Message>" in response["body"]
    tables = deployed_on_loopback
    [conversation] = tables.scan(TableName=CONVERSATION_TABLE)["Items"]
    assert json.loads(conversation["state"]["S"]) == {"messages": 1}
    records = tables.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert [record["status"]["S"] for record in records] == ["COMPLETED", "COMPLETED"]
