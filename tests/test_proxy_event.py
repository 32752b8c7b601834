"""Reading the HTTP request out of each front door's event, and rejecting what is not one."""

import pytest

from sms_webhook.proxy_event import read_request
from tests.support.twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_HOST,
    load_event,
    rest_request,
    v2_request,
)


@pytest.mark.parametrize("name", ["rest", "http_api", "function_url"])
def test_each_front_door_is_read(name):
    assert read_request(load_event(name)) is not None


def test_a_rest_event_gives_method_route_public_path_and_host():
    request = read_request(rest_request("post"))

    assert (request.method, request.route, request.public_path, request.domain) == (
        "POST",
        "/sms",
        "/Prod/sms",
        REST_HOST,
    )


def test_a_custom_domain_base_path_mapping_is_left_out_of_the_route():
    request = read_request(rest_request(path="/twilio/v1/sms/", public_path="/twilio/v1/sms/"))

    assert (request.route, request.public_path) == ("/sms", "/twilio/v1/sms/")


def test_an_http_api_named_stage_is_left_out_of_the_route():
    request = read_request(v2_request(raw_path="/prod/sms", stage="prod"))

    assert (request.route, request.public_path, request.domain) == (
        "/sms",
        "/prod/sms",
        HTTP_API_HOST,
    )


def test_a_function_url_keeps_its_raw_query_string():
    event = v2_request("function_url", "GET", [("Body", "a b")])

    request = read_request(event)

    assert (request.domain, request.raw_query) == (FUNCTION_URL_HOST, "Body=a+b")


def test_a_rest_query_arrives_decoded_in_the_events_order():
    request = read_request(rest_request("GET", [("Zebra", "1"), ("Apple", "2 3"), ("Zebra", "4")]))

    assert (request.raw_query, request.decoded_query) == (
        None,
        (("Zebra", "1"), ("Zebra", "4"), ("Apple", "2 3")),
    )


def test_header_names_are_lower_cased():
    assert "x-forwarded-proto" in read_request(rest_request()).headers


def test_rest_headers_come_from_multi_value_headers_when_headers_are_null():
    event = rest_request()
    event["headers"] = None

    assert read_request(event).headers["host"] == REST_HOST


def test_the_request_id_is_kept_for_the_logs():
    assert read_request(rest_request()).request_id == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


@pytest.mark.parametrize("event", [None, [], "event", 42, {}, {"Records": []}])
def test_what_is_not_an_http_event_is_not_read(event):
    assert read_request(event) is None


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("rest", "httpMethod", None),
        ("rest", "path", 7),
        ("rest", "requestContext", "ctx"),
        ("rest", "headers", {"Host": 1}),
        ("rest", "headers", ["Host"]),
        ("rest", "multiValueQueryStringParameters", {"Body": [1]}),
        ("rest", "queryStringParameters", {"Body": ["a"]}),
        ("rest", "body", {"Body": "hi"}),
        ("rest", "isBase64Encoded", "yes"),
        ("http_api", "rawPath", None),
        ("http_api", "rawQueryString", 1),
        ("http_api", "requestContext", {"stage": "$default"}),
        ("function_url", "headers", {"host": None}),
    ],
)
def test_an_event_with_a_field_of_the_wrong_type_is_not_read(name, field, value):
    event = load_event(name)
    event[field] = value

    assert read_request(event) is None


def test_bad_multi_value_headers_are_rejected_when_they_are_the_only_headers():
    event = load_event("rest")
    event["headers"] = None
    event["multiValueHeaders"] = {"Host": "not a list"}

    assert read_request(event) is None


def test_null_headers_and_body_are_allowed():
    event = load_event("rest")
    event["headers"] = event["multiValueHeaders"] = event["body"] = None

    assert read_request(event) is not None
