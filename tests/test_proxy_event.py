"""Telling the front doors apart, and refusing what is not an HTTP event."""

import pytest
from twilio_requests import load_event

from sms_webhook.proxy_event import front_door


@pytest.mark.parametrize(
    ("name", "kind"), [("rest", "rest"), ("http_api", "http"), ("function_url", "http")]
)
def test_each_front_door_is_recognised(name, kind):
    assert front_door(load_event(name)) == kind


@pytest.mark.parametrize("event", [None, [], "event", 42, {}, {"Records": []}])
def test_what_is_not_an_http_event_is_not_recognised(event):
    assert front_door(event) is None


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("rest", "httpMethod", None),
        ("rest", "path", 7),
        ("rest", "requestContext", "ctx"),
        ("rest", "headers", {"Host": 1}),
        ("rest", "headers", ["Host"]),
        ("rest", "multiValueHeaders", {"Host": "not a list"}),
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
def test_an_event_with_a_field_of_the_wrong_type_is_not_recognised(name, field, value):
    event = load_event(name)
    event[field] = value

    assert front_door(event) is None


def test_null_headers_and_body_are_allowed():
    event = load_event("rest")
    event["headers"] = event["multiValueHeaders"] = event["body"] = None

    assert front_door(event) == "rest"
