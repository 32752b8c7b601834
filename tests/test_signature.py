"""Rebuilding the URL Twilio called, and checking the signature against it."""

from urllib.parse import quote, urlencode

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_HOST,
    REST_URL,
    rest_event,
    signature,
    v2_event,
    with_header,
)

from sms_webhook.form import FormFields
from sms_webhook.signature import public_url_for_logs, public_urls, rejection_reason

# Known answers from Twilio's security documentation and twilio-python's tests: token 12345.
KNOWN_TOKEN = "12345"
KNOWN_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]


def rest(event: dict) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent(event)


def v2(event: dict) -> APIGatewayProxyEventV2:
    return APIGatewayProxyEventV2(event)


def known_answer_event(signature_value: str) -> APIGatewayProxyEventV2:
    """The request of the known answers, `https://mycompany.com/myapp.php?foo=1&bar=2`."""
    event = v2_event(raw_path="/myapp.php")
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


def test_known_answer_with_another_token_is_not_valid(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "54321")
    event = known_answer_event("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")

    assert rejection_reason(event, FormFields.from_pairs(KNOWN_PARAMS)) is not None


# The URL Twilio called, front door by front door


def test_rest_api_url_is_the_stage_url():
    assert public_urls(rest(rest_event())) == [REST_URL]


def test_rest_api_url_on_a_custom_domain_keeps_the_base_path():
    event = rest_event(domain="api.example.com", path="/twilio/sms", public_path="/twilio/sms")

    assert public_urls(rest(event)) == ["https://api.example.com/twilio/sms"]


def test_http_api_url_keeps_the_raw_query_string_byte_for_byte():
    event = v2_event("http_api", raw_path="/prod/sms", stage="prod")
    event["rawQueryString"] = "b=2&a=%7E+x"

    assert public_urls(v2(event)) == [f"https://{HTTP_API_HOST}/prod/sms?b=2&a=%7E+x"]


def test_function_url_url_is_its_host_and_raw_path():
    assert public_urls(v2(v2_event("function_url"))) == [f"https://{FUNCTION_URL_HOST}/sms"]


def test_configured_url_is_used_exactly_for_a_post(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://proxy.example.com/hooks/sms?key=1")

    assert public_urls(rest(rest_event())) == ["https://proxy.example.com/hooks/sms?key=1"]


def test_configured_url_takes_the_query_string_of_a_get(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://proxy.example.com/sms")
    event = v2_event("http_api", "GET", [("Body", "hi")])

    assert public_urls(v2(event)) == ["https://proxy.example.com/sms?Body=hi"]


def test_configured_url_ignores_surrounding_spaces(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "  https://proxy.example.com/sms \n")

    assert public_urls(rest(rest_event())) == ["https://proxy.example.com/sms"]


def test_without_a_host_or_a_configured_url_there_is_nothing_to_check_against():
    event = rest_event()
    del event["requestContext"]["domainName"]
    event = with_header(event, "X-Twilio-Signature", "anything")

    reason = rejection_reason(rest(event), FormFields())

    assert "TWILIO_WEBHOOK_URL" in reason


def test_url_for_logs_leaves_out_the_query_string():
    event = rest_event("GET", [("From", "+14155551234")])

    assert public_url_for_logs(rest(event)) == REST_URL


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
    event = with_header(rest_event("GET", TRICKY_FIELDS), "X-Twilio-Signature", signature(url))

    fields = FormFields.from_pairs(TRICKY_FIELDS)

    assert rejection_reason(rest(event), fields) is None


def test_rest_get_keeps_the_order_of_the_fields_as_they_arrived():
    fields = [("Zebra", "1"), ("Apple", "2")]

    assert public_urls(rest(rest_event("GET", fields))) == [f"{REST_URL}?Zebra=1&Apple=2"]


def test_rest_get_tries_each_distinct_encoding_once():
    assert len(public_urls(rest(rest_event("GET", [("Body", "plain")])))) == 1


def test_a_host_that_is_not_a_valid_url_is_refused_not_raised():
    event = rest_event(domain="[::1")
    event = with_header(event, "X-Twilio-Signature", "anything")

    assert rejection_reason(rest(event), FormFields()) == "the public URL is not a valid URL"


def test_an_http_api_event_without_a_domain_name_has_no_public_url():
    event = v2_event()
    del event["requestContext"]["domainName"]

    assert public_urls(v2(event)) == []
