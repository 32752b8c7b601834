"""Rebuilding the URL Twilio called, and checking the signature against it."""

from urllib.parse import quote, urlencode

import pytest

from devtools.twilio_message import twilio_signature
from sms_webhook.form import FormFields
from sms_webhook.proxy_event import HttpRequest, read_request
from sms_webhook.signature import Rejected, Rejection, signing_secret
from tests.support.twilio_requests import (
    REST_HOST,
    TOKEN,
    rest_request,
    v2_request,
    with_header,
)

# Known answers from Twilio's security documentation and twilio-python's tests: token 12345.
KNOWN_TOKEN = "12345"
KNOWN_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]


def rest(event: dict) -> HttpRequest:
    return read_request(event)


def rejection_reason(request: HttpRequest, fields: FormFields) -> Rejection | None:
    """Why the signature check rejects the request, or None when it holds."""
    try:
        signing_secret(request, fields)
    except Rejected as rejected:
        return rejected.rejection
    return None


v2 = rest


def known_answer_event(signature_value: str) -> HttpRequest:
    """The request of the known answers, `https://mycompany.com/myapp.php?foo=1&bar=2`."""
    event = v2_request(raw_path="/myapp.php")
    event["requestContext"]["domainName"] = "mycompany.com"
    event["rawQueryString"] = "foo=1&bar=2"
    return v2(with_header(event, "X-Twilio-Signature", signature_value))


# Known answers


@pytest.fixture
def known_token(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", KNOWN_TOKEN)


def test_twilio_security_docs_example_is_valid(known_token):
    event = known_answer_event("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")

    assert rejection_reason(event, FormFields.from_pairs(KNOWN_PARAMS)) is None


def test_twilio_python_example_signed_with_port_443_is_valid(known_token):
    params = [
        (name, "+14158675309" if name in ("Caller", "From") else value)
        for name, value in KNOWN_PARAMS
    ]
    event = known_answer_event("kvajT1Ptam85bY51eRf/AJRuM3w=")

    assert rejection_reason(event, FormFields.from_pairs(params)) is None


def test_twilio_python_example_with_repeated_names_is_valid(known_token):
    params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    event = known_answer_event("IK+Dwps556ElfBT0I3Rgjkr1wJU=")

    assert rejection_reason(event, FormFields.from_pairs(params)) is None


def test_the_secret_a_request_was_signed_with_is_known_once_it_holds(known_token):
    event = known_answer_event("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")

    assert signing_secret(event, FormFields.from_pairs(KNOWN_PARAMS)) == KNOWN_TOKEN


def test_known_answer_with_another_token_is_not_valid(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "54321")
    event = known_answer_event("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")

    assert rejection_reason(event, FormFields.from_pairs(KNOWN_PARAMS)) is not None


def test_without_a_host_or_a_configured_url_there_is_nothing_to_check_against():
    event = rest_request()
    del event["requestContext"]["domainName"]
    event = with_header(event, "X-Twilio-Signature", "anything")

    reason = rejection_reason(rest(event), FormFields())

    assert reason is Rejection.NO_URL


# REST GET webhooks: the query string arrives decoded and must be encoded again

TRICKY_FIELDS = [
    ("Body", "Couldn't find it: 50% off * ~ @ home / now"),
    ("From", "+14155551234"),
    ("ToCity", ""),
]


def java_style(value, safe="", encoding=None, errors=None):
    return (
        quote(value, safe="*", encoding=encoding, errors=errors)
        .replace("%20", "+")
        .replace("~", "%7E")
    )


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(urlencode(TRICKY_FIELDS), id="form-encoding-as-twilio"),
        pytest.param(urlencode(TRICKY_FIELDS, quote_via=quote), id="spaces-as-percent-20"),
        pytest.param(urlencode(TRICKY_FIELDS, quote_via=java_style), id="java-url-encoder"),
    ],
)
def test_rest_get_signed_with_a_usual_encoding_of_the_query_is_valid(query):
    url = f"https://{REST_HOST}/Prod/sms?{query}"
    signature = twilio_signature(url, [], TOKEN)
    event = with_header(rest_request("GET", TRICKY_FIELDS), "X-Twilio-Signature", signature)

    fields = FormFields.from_pairs(TRICKY_FIELDS)

    assert rejection_reason(rest(event), fields) is None


def test_a_host_that_is_not_a_valid_url_is_rejected_not_raised():
    event = rest_request(domain="[::1")
    event = with_header(event, "X-Twilio-Signature", "anything")

    assert rejection_reason(rest(event), FormFields()) is Rejection.INVALID_URL
