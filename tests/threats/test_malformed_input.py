"""Threat: malformed input. Nothing, however malformed, makes the function raise or answer 5xx.

Property-based: hypothesis builds events from scratch, damages well-formed signed events by
replacing or deleting any field at any depth with any JSON value (types AWS never sends
included), and sends random, binary and huge bodies. `EXAMPLES` events per test. Then the shapes
found by review: unpaired surrogates, malformed multi-value headers, events without a stage, and
bodies whose characters fit a limit their bytes do not.
"""

import base64
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_webhook.form import MAX_FORM_SIZE
from tests.support.twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_URL,
    SMS,
    rest_request,
    signed,
    v2_request,
)

DELETE = object()

EXAMPLES = 400
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

SIGNED_EVENTS = [
    signed(rest_request(), REST_URL),
    signed(rest_request(base64_body=True), REST_URL),
    signed(rest_request("GET"), f"{REST_URL}?ToCountry=US"),
    signed(v2_request("http_api"), f"https://{HTTP_API_HOST}/sms"),
    signed(v2_request("function_url", "GET"), f"https://{FUNCTION_URL_HOST}/sms"),
]


def key_paths(value, prefix=()):
    """Every path to a value inside nested dicts, e.g. ("requestContext", "http", "method")."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from key_paths(item, (*prefix, key))


def damaged(event: dict, path: tuple, value) -> dict:
    event = copy.deepcopy(event)
    target = event
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


@st.composite
def damaged_events(draw):
    event = draw(st.sampled_from(SIGNED_EVENTS))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(key_paths(event))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        event = damaged(event, path, draw(json_values | st.just(DELETE)))
    return event


@st.composite
def random_bodies(draw):
    event = draw(st.sampled_from(SIGNED_EVENTS[:2] + SIGNED_EVENTS[3:4]))
    is_base64 = draw(st.booleans())
    huge = st.builds(
        lambda chunk, times: chunk * times,
        st.binary(min_size=1, max_size=8),
        st.integers(1_000, 40_000),
    )
    raw = draw(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode) | huge)
    body = base64.b64encode(raw).decode() if is_base64 else raw.decode("latin-1")
    return {
        **event,
        "body": draw(st.just(body) | st.text(max_size=200)),
        "isBase64Encoded": is_base64,
    }


def assert_answered_without_server_error(response):
    assert isinstance(response, dict)
    assert 200 <= int(response["statusCode"]) < 500
    assert isinstance(response["body"], str)


@pytest.mark.slow
@SETTINGS
@given(event=json_values)
def test_any_json_value_as_event_is_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


@pytest.mark.slow
@SETTINGS
@given(event=damaged_events())
def test_damaged_events_are_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


@pytest.mark.slow
@SETTINGS
@given(event=random_bodies())
def test_random_bodies_are_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


@pytest.mark.slow
@SETTINGS
@given(
    headers=st.dictionaries(st.text(max_size=30), st.text(max_size=60), max_size=8),
    method=st.text(max_size=10) | st.sampled_from(["GET", "POST", "get", "post", "HEAD"]),
    path=st.text(max_size=40) | st.sampled_from(["/sms", "/sms/", "//sms", "/a/b/sms", ""]),
)
def test_random_methods_paths_and_headers_are_answered_without_server_error(
    invoke, headers, method, path
):
    event = {**SIGNED_EVENTS[0], "headers": headers, "multiValueHeaders": None}
    event["httpMethod"], event["path"] = method, path

    assert_answered_without_server_error(invoke(event))


def from_json(text: str) -> dict:
    """The event as Lambda hands it over: parsed from JSON, which can carry lone surrogates."""
    return json.loads(text)


@pytest.mark.parametrize(
    "query",
    [
        '{"Body": ["\\ud800"]}',
        '{"\\udfff": ["hi"]}',
        '{"Body": ["a\\ud83d"], "From": ["+14155551234"]}',
    ],
)
def test_an_unpaired_surrogate_in_a_rest_query_is_a_400(invoke, query):
    event = rest_request("GET")
    event["multiValueQueryStringParameters"] = from_json(query)
    event["queryStringParameters"] = {k: v[0] for k, v in from_json(query).items()}

    assert invoke(event)["statusCode"] == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", '"Body=\\ud800"'),
        ("path", '"/sms\\ud800"'),
        ("headers", '{"X-Twilio-Signature": "\\udc00"}'),
    ],
)
def test_an_unpaired_surrogate_anywhere_in_a_rest_event_is_a_400(invoke, field, value):
    event = signed(rest_request(), REST_URL)
    event[field] = from_json(value)

    assert invoke(event)["statusCode"] == 400


def test_an_unpaired_surrogate_in_a_raw_query_string_is_a_400(invoke):
    event = v2_request("function_url", "GET")
    event["rawQueryString"] = from_json('"Body=\\ud800"')

    assert invoke(event)["statusCode"] == 400


@pytest.mark.parametrize(
    "multi_value_headers",
    [{"a": 5}, "a string", {5: ["x"]}, ["Host"], {"Host": [5]}, {"Host": [None]}],
)
def test_malformed_multi_value_headers_beside_empty_headers_are_a_400(invoke, multi_value_headers):
    event = signed(rest_request(), REST_URL)
    event["headers"] = {}
    event["multiValueHeaders"] = multi_value_headers

    assert invoke(event)["statusCode"] == 400


@pytest.mark.parametrize("name", ["http_api", "function_url"])
def test_a_payload_2_event_without_a_stage_is_read_as_the_default_stage(invoke, name):
    host = HTTP_API_HOST if name == "http_api" else FUNCTION_URL_HOST
    event = signed(v2_request(name), f"https://{host}/sms")
    del event["requestContext"]["stage"]

    assert invoke(event)["statusCode"] == 200


def test_the_body_limit_counts_bytes_not_characters(invoke):
    event = signed(rest_request(), REST_URL)
    event["body"] = "Body=" + "語" * (MAX_FORM_SIZE // 2)  # half the characters, 1.5x the bytes

    assert invoke(event)["statusCode"] == 413


def test_a_raw_query_string_limit_counts_bytes_too(invoke):
    event = v2_request("function_url", "GET")
    event["rawQueryString"] = "Body=" + "語" * (MAX_FORM_SIZE // 2)

    assert invoke(event)["statusCode"] == 413


def test_a_signed_message_in_many_languages_is_still_answered(invoke):
    fields = [(n, "こんにちは 🎉 Grüße " * 50 if n == "Body" else v) for n, v in SMS]

    assert invoke(signed(rest_request(fields=fields), REST_URL, fields))["statusCode"] == 200
