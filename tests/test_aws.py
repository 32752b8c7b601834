"""AWS clients that give up in time: no attempt starts that could not end before the deadline."""

import boto3
import pytest

from sms_webhook import aws, deadlines

pytestmark = pytest.mark.usefixtures("real_deadlines")  # what these tests measure


def attempt(service: str) -> None:
    """What botocore does before each attempt of an API call of that service's client."""
    aws.client(service).meta.events.emit("before-send.test.Operation", request=None)


@pytest.mark.parametrize("service", sorted(aws.PATIENCE))
def test_an_attempt_with_time_to_end_is_made(service):
    deadlines.start_request(remaining_millis=10_000)

    attempt(service)  # nothing raised


@pytest.mark.parametrize("service", sorted(aws.PATIENCE))
def test_no_attempt_starts_when_the_invocation_has_no_time_left_for_it(service):
    patience = aws.PATIENCE[service]
    too_little = (patience.connect + patience.read + deadlines.ANSWER_MARGIN) * 1000 - 1
    deadlines.start_request(remaining_millis=int(too_little))

    with pytest.raises(aws.OutOfTimeError):
        attempt(service)


def test_the_deadline_is_never_later_than_the_budget_after_the_request(clock):
    deadlines.start_request(remaining_millis=900_000)
    patience = aws.PATIENCE["ssm"]
    clock.advance(deadlines.AWS_BUDGET - patience.connect - patience.read + 0.01)

    with pytest.raises(aws.OutOfTimeError):
        attempt("ssm")


def test_building_a_client_does_not_count_against_the_time_waited_on_aws(clock, monkeypatch):
    deadlines.start_request(remaining_millis=30_000)
    build = boto3.client

    def on_a_busy_machine(*arguments, **options):
        clock.advance(deadlines.AWS_BUDGET - 0.5)  # importing and building take seconds
        return build(*arguments, **options)

    monkeypatch.setattr(boto3, "client", on_a_busy_machine)

    attempt("dynamodb")  # nothing raised


@pytest.mark.parametrize(("service", "attempts"), [("ssm", 2), ("dynamodb", 1)])
def test_each_service_makes_its_number_of_attempts(service, attempts):
    retries = aws.client(service).meta.config.retries

    assert (retries["mode"], retries["total_max_attempts"]) == ("standard", attempts)
