"""Threat: a flood of forged or oversized requests. Rejecting them costs no AWS call and no parsing.

(The API's throttling and the optional reserved concurrency are checked in test_template.py.)
"""

import base64

import pytest
from botocore.client import BaseClient

from devtools.twilio_message import form_encode, largest_message_fields
from sms_webhook import form
from sms_webhook.form import MAX_FIELDS, MAX_FORM_SIZE
from tests.support.twilio_requests import (
    REST_URL,
    SSM_TOKEN,
    rest_request,
    signed,
    signed_with_shared_key,
    v2_request,
)


@pytest.fixture
def aws_calls(monkeypatch):
    """Every AWS API call the process makes, by operation name."""
    calls = []
    make_api_call = BaseClient._make_api_call

    def counted(client, operation, parameters):
        calls.append(operation)
        return make_api_call(client, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def test_unsigned_requests_cost_no_aws_call_at_all(deployed, invoke, aws_calls):
    for _ in range(50):
        assert invoke(rest_request())["statusCode"] == 403

    assert aws_calls == []


def test_forged_requests_cost_no_aws_call_once_the_token_is_cached(deployed, invoke, aws_calls):
    invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))
    aws_calls.clear()

    for _ in range(50):
        assert invoke(signed(rest_request(), REST_URL, token="forged"))["statusCode"] == 403

    assert aws_calls == []


def test_unknown_shared_key_ids_cost_one_ssm_call_for_all_of_them(deployed, invoke, aws_calls):
    for number in range(50):
        event = signed_with_shared_key(rest_request(), REST_URL, f"key-{number}", "guess")
        assert invoke(event)["statusCode"] == 403

    assert aws_calls == ["GetParametersByPath"]


def test_an_answered_message_costs_one_token_read_and_four_table_writes(
    deployed, invoke, aws_calls
):
    invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))

    # a record under the MessageSid and one under the signature, each put then completed
    assert aws_calls == ["GetParameter", "PutItem", "PutItem", "UpdateItem", "UpdateItem"]


def test_a_repeated_message_costs_one_table_call(deployed, invoke, aws_calls):
    invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))
    aws_calls.clear()

    invoke(signed(rest_request(), REST_URL, token=SSM_TOKEN))

    assert aws_calls == ["PutItem"]


@pytest.fixture
def parsing_forbidden(monkeypatch):
    """Make any decoding or parsing of the body fail the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("an oversized body was decoded or parsed")

    monkeypatch.setattr(form.binascii, "a2b_base64", forbidden)
    monkeypatch.setattr(form, "_percent_decoded", forbidden)


def test_a_plain_body_over_the_limit_is_rejected_with_413_unparsed(invoke, parsing_forbidden):
    event = rest_request()
    event["body"] = "Body=" + "a" * MAX_FORM_SIZE

    assert invoke(event)["statusCode"] == 413


def test_a_base64_body_over_the_limit_is_rejected_with_413_undecoded(invoke, parsing_forbidden):
    event = rest_request(base64_body=True)
    event["body"] = base64.b64encode(b"Body=" + b"a" * MAX_FORM_SIZE).decode()

    assert invoke(event)["statusCode"] == 413


def test_a_query_string_over_the_limit_is_rejected_with_413_unparsed(invoke, parsing_forbidden):
    event = v2_request("function_url", "GET")
    event["rawQueryString"] = "Body=" + "a" * MAX_FORM_SIZE

    assert invoke(event)["statusCode"] == 413


def test_a_body_at_the_limit_is_still_read(invoke):
    event = rest_request()
    event["body"] = ("Body=" + "a" * MAX_FORM_SIZE)[:MAX_FORM_SIZE]

    assert invoke(event)["statusCode"] == 403


def test_twilios_largest_request_fits_the_limits_and_is_answered(invoke, received):
    fields = largest_message_fields()

    response = invoke(signed(rest_request(fields=fields, base64_body=True), REST_URL, fields))

    assert response["statusCode"] == 200
    assert len(form_encode(fields).encode()) <= MAX_FORM_SIZE
    assert len(fields) <= MAX_FIELDS
    assert len(received[0].media) == 10


def test_a_body_of_thousands_of_tiny_fields_is_rejected_with_413_unparsed(
    invoke, parsing_forbidden
):
    event = rest_request()
    event["body"] = "&".join(["a="] * 6000)

    assert invoke(event)["statusCode"] == 413


def test_a_rest_get_over_the_url_length_api_gateway_accepts_is_rejected(invoke):
    event = rest_request("GET", [("Body", "a" * 10_241)])

    assert invoke(event)["statusCode"] == 413


def test_a_request_with_thousands_of_headers_is_rejected_before_they_are_read(invoke):
    event = signed(rest_request(), REST_URL)
    for number in range(2000):
        event["headers"][f"X-Header-{number}"] = "x"
        event["multiValueHeaders"][f"X-Header-{number}"] = ["x"]

    assert invoke(event)["statusCode"] == 400


def test_a_rest_query_of_thousands_of_values_is_rejected(invoke):
    event = rest_request("GET", [("Body", "hi")])
    event["multiValueQueryStringParameters"] = {"Body": ["x"] * 2000}

    assert invoke(event)["statusCode"] == 400
