"""Threat: malformed input. Nothing, however malformed, makes the function raise or answer 5xx.

Property-based: hypothesis builds events from scratch, damages well-formed signed events by
replacing or deleting any field at any depth with any JSON value (types AWS never sends
included), and sends random, binary and huge bodies. `EXAMPLES` events per test.
"""

import base64
import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_URL,
    rest_event,
    signed,
    v2_event,
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
    signed(rest_event(), REST_URL),
    signed(rest_event(base64_body=True), REST_URL),
    signed(rest_event("GET"), f"{REST_URL}?ToCountry=US"),
    signed(v2_event("http_api"), f"https://{HTTP_API_HOST}/sms"),
    signed(v2_event("function_url", "GET"), f"https://{FUNCTION_URL_HOST}/sms"),
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


@SETTINGS
@given(event=json_values)
def test_any_json_value_as_event_is_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


@SETTINGS
@given(event=damaged_events())
def test_damaged_events_are_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


@SETTINGS
@given(event=random_bodies())
def test_random_bodies_are_answered_without_server_error(invoke, event):
    assert_answered_without_server_error(invoke(event))


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
