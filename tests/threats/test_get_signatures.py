"""Threat: a GET webhook whose text holds an apostrophe refused, or a re-encoding that lets through
what Twilio did not sign.

Twilio signs a GET's query with spaces as `+` and the apostrophe as it is (twilio-ruby #528,
twilio-node #1059 and #1183). API Gateway's REST API hands the query over decoded, so the function
encodes it again, and an encoding that writes `'` as `%27` refused "Don't" and "Coeur d'Alene".

The published vectors: twilio-node's `spec/validation.spec.js` ("should validate urls with
special characters", from its PR #519 on: token `12345`, `Body=It's+amazing` in the URL, the POST
fields of Twilio's security docs; signed `dsq4…` with the apostrophe as it is, and `TfZz…` since
its PR #1017, with `%27`), and twilio-node's `spec/unit/webhooks/webhooks.spec.js` (PR #1061:
token `s3cr3t`, `?test=param'WithQuote` signed and received with `'` and with `%27`, signatures
made by its `getExpectedTwilioSignature`, here twilio-python's `compute_signature`, the same
HMAC). twilio-ruby publishes no apostrophe vector (its issue #528 is open; its
`spec/security/request_validator_spec.rb` has none): ruby's token and URL (`12345`,
`https://mycompany.com/myapp.php?foo=1&bar=2`) are used with a GET SMS whose text holds an
apostrophe, signed as #528 reports Twilio signs it (apostrophe as it is, spaces as `+`) with
twilio-python's RequestValidator.
"""

from urllib.parse import urlencode

import pytest

from devtools.proxy_events import Target, rest_event, v2_event
from devtools.twilio_message import form_encode, message_fields, twilio_signature
from sms_webhook.form import request_fields
from sms_webhook.proxy_event import read_request
from sms_webhook.signature import Rejected, signing_secret
from tests.support.twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_URL,
    TOKEN,
    load_event,
    rest_request,
    signed,
    v2_request,
    with_fields,
    with_header,
)

APOSTROPHES = with_fields(message_fields("Don't forget: it's at 5!"), FromCity="COEUR D'ALENE")

SECURITY_DOCS_FIELDS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
"""The POST fields of twilio-node's and twilio-ruby's vectors (twilio-python's too)."""
NODE_URL = "https://mycompany.com/myapp.php"
NODE_QUERY = "foo=1&bar=2&Body=It's+amazing"
NODE_SIGNATURES = {
    "dsq4Ehbj6cs+KdTkpF5sSSplOWw=": "the apostrophe as it is (PR #519)",
    "TfZzewPq8wqrGlMfyAud8+/IvJ0=": "the apostrophe as %27 (PR #1017)",
}
QUOTE_URLS = [
    "https://example.com/path?test=param'WithQuote",
    "https://example.com/path?test=param%27WithQuote",
]
"""twilio-node PR #1061: each signed, each received, every pair valid."""


def twilio_query(fields: list[tuple[str, str]]) -> str:
    """A GET's query as Twilio signs it: form encoding, spaces as `+`, `'` as it is."""
    return urlencode(fields, safe="'")


def sign(url: str, token: str) -> str:
    """The signature of a GET to `url`: the URL alone, HMAC-SHA1."""
    return twilio_signature(url, [], token)


def accepted(event: dict, token: str, monkeypatch) -> bool:
    """Whether the signature check lets the event through with this auth token."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", token)
    request = read_request(event)
    try:
        return signing_secret(request, request_fields(request)) == token
    except Rejected:
        return False


def rest_at(url: str, method: str, query: str, body: str = "") -> dict:
    """The REST API's event for a request to `url` (no query) with this raw query and body: its
    query decoded, as API Gateway hands it over."""
    host, _, path = url.removeprefix("https://").partition("/")
    target = Target(host, f"/{path}", f"/{path}")
    return rest_event(method, target, headers=[("Host", host)], query=query, body=body.encode())


def v2_at(url: str, method: str, query: str, body: str = "", shape: str = "http_api") -> dict:
    """An HTTP API (or Function URL) event for `url` with this raw query, byte for byte."""
    host, _, path = url.removeprefix("https://").partition("/")
    event = v2_event(
        load_event(shape), method, raw_path=f"/{path}", query=query, body=body.encode()
    )
    event["requestContext"]["domainName"] = host
    return event


# Twilio's GET with apostrophes, on each front door


def test_a_rest_api_get_whose_text_holds_apostrophes_is_answered(invoke, received):
    event = signed(rest_request("GET", APOSTROPHES), f"{REST_URL}?{twilio_query(APOSTROPHES)}")

    assert invoke(event)["statusCode"] == 200
    assert received[0].body == "Don't forget: it's at 5!"
    assert received[0].fields["FromCity"] == "COEUR D'ALENE"


@pytest.mark.parametrize(
    ("shape", "host"),
    [("http_api", HTTP_API_HOST), ("function_url", FUNCTION_URL_HOST)],
    ids=["http-api", "function-url"],
)
@pytest.mark.parametrize(
    "sent", [twilio_query, form_encode], ids=["as-signed", "apostrophe-escaped"]
)
def test_a_payload_2_get_whose_text_holds_apostrophes_is_answered(
    invoke, received, shape, host, sent
):
    """Whether the front door passes the apostrophe on as Twilio signed it or escaped."""
    event = v2_request(shape, "GET", APOSTROPHES)
    event["rawQueryString"] = sent(APOSTROPHES)

    assert (
        invoke(signed(event, f"https://{host}/sms?{twilio_query(APOSTROPHES)}"))["statusCode"]
        == 200
    )
    assert received[0].body == "Don't forget: it's at 5!"


def test_a_get_with_apostrophes_through_a_configured_url_is_answered(invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://abcd-1234.ngrok-free.app/sms")
    url = f"https://abcd-1234.ngrok-free.app/sms?{twilio_query(APOSTROPHES)}"

    assert invoke(signed(rest_request("GET", APOSTROPHES), url))["statusCode"] == 200


def test_a_get_signed_with_colons_and_at_signs_as_they_are_is_answered(invoke, received):
    """twilio-node #621 reports `:` and `@` signed as they are (and sent escaped)."""
    fields = with_fields(APOSTROPHES, Body="Mail me at ada@example.com: it's urgent")
    query = urlencode(fields, safe="':@")

    assert invoke(signed(rest_request("GET", fields), f"{REST_URL}?{query}"))["statusCode"] == 200
    assert received[0].body == "Mail me at ada@example.com: it's urgent"


# The published vectors


@pytest.mark.parametrize("signature", NODE_SIGNATURES, ids=NODE_SIGNATURES.values())
@pytest.mark.parametrize("front_door", [rest_at, v2_at], ids=["rest", "http-api"])
def test_twilio_nodes_special_characters_vector_passes(monkeypatch, signature, front_door):
    event = front_door(NODE_URL, "POST", NODE_QUERY, form_encode(SECURITY_DOCS_FIELDS))

    assert accepted(with_header(event, "X-Twilio-Signature", signature), "12345", monkeypatch)


@pytest.mark.parametrize("signed_url", QUOTE_URLS, ids=["signed-quote", "signed-%27"])
@pytest.mark.parametrize("received_url", QUOTE_URLS, ids=["received-quote", "received-%27"])
@pytest.mark.parametrize("front_door", [rest_at, v2_at], ids=["rest", "http-api"])
def test_twilio_nodes_single_quote_vectors_pass(monkeypatch, signed_url, received_url, front_door):
    url, _, query = received_url.partition("?")
    event = with_header(
        front_door(url, "GET", query), "X-Twilio-Signature", sign(signed_url, "s3cr3t")
    )

    assert accepted(event, "s3cr3t", monkeypatch)


def test_twilio_rubys_default_vector_passes_with_its_query_decoded(monkeypatch):
    event = rest_at(NODE_URL, "POST", "foo=1&bar=2", form_encode(SECURITY_DOCS_FIELDS))

    assert accepted(
        with_header(event, "X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        "12345",
        monkeypatch,
    )


def test_a_get_like_twilio_rubys_report_passes_with_its_query_decoded(monkeypatch):
    query = f"foo=1&bar=2&{twilio_query(APOSTROPHES)}"
    event = rest_at(NODE_URL, "GET", query)

    assert accepted(
        with_header(event, "X-Twilio-Signature", sign(f"{NODE_URL}?{query}", "12345")),
        "12345",
        monkeypatch,
    )


# Nothing Twilio did not sign


def test_a_get_whose_text_was_changed_is_rejected(invoke, received):
    changed = with_fields(APOSTROPHES, Body="Do forget: it's at 5!")
    event = signed(rest_request("GET", changed), f"{REST_URL}?{twilio_query(APOSTROPHES)}")

    assert invoke(event)["statusCode"] == 403
    assert received == []


def test_a_field_whose_value_swallows_the_next_field_is_rejected(monkeypatch):
    """Signed `Body=Don't&Extra=1`, sent as a single `Body` of `Don't&Extra=1`: `&` is always
    escaped in what is tried."""
    event = rest_request("GET", [("Body", "Don't&Extra=1")])

    signature = sign(f"{REST_URL}?Body=Don't&Extra=1", TOKEN)

    assert not accepted(with_header(event, "X-Twilio-Signature", signature), TOKEN, monkeypatch)


def test_a_plus_that_was_a_space_is_rejected(monkeypatch):
    """Twilio signed `1+1=2` meaning "1 1=2"; the same bytes never pass for a text with a `+`."""
    event = rest_request("GET", [("Body", "1+1=2, isn't it")])

    signature = sign(f"{REST_URL}?Body=1+1%3D2,+isn't+it", TOKEN)

    assert not accepted(with_header(event, "X-Twilio-Signature", signature), TOKEN, monkeypatch)


def test_an_apostrophe_get_signed_with_another_token_is_rejected(monkeypatch):
    event = rest_request("GET", APOSTROPHES)
    signature = sign(f"{REST_URL}?{twilio_query(APOSTROPHES)}", "another-token")

    assert not accepted(with_header(event, "X-Twilio-Signature", signature), TOKEN, monkeypatch)
