"""The public URL Twilio called, rebuilt front door by front door, and its /status sibling."""

from urllib.parse import quote, quote_plus, urlencode

from hypothesis import given
from hypothesis import strategies as st

from sms_webhook.form import FormFields, parse_form
from sms_webhook.proxy_event import HttpRequest, read_request
from sms_webhook.urls import (
    public_url_for_logs,
    public_urls,
    sibling_url,
    status_callback_url,
)
from tests.support.twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_URL,
    rest_request,
    v2_request,
)


def rest(event: dict) -> HttpRequest:
    return read_request(event)


v2 = rest


def test_rest_api_url_is_the_stage_url():
    assert public_urls(rest(rest_request())) == [REST_URL]


def test_rest_api_url_on_a_custom_domain_keeps_the_base_path():
    event = rest_request(domain="api.example.com", path="/twilio/sms", public_path="/twilio/sms")

    assert public_urls(rest(event)) == ["https://api.example.com/twilio/sms"]


def test_http_api_url_keeps_the_raw_query_string_byte_for_byte_first():
    event = v2_request("http_api", raw_path="/prod/sms", stage="prod")
    event["rawQueryString"] = "b=2&a=%7E+x"

    assert public_urls(v2(event))[0] == f"https://{HTTP_API_HOST}/prod/sms?b=2&a=%7E+x"


def test_http_api_url_then_tries_its_query_as_twilio_signs_then_apostrophes_escaped():
    event = v2_request("http_api", "GET")
    event["rawQueryString"] = "Body=it%27s+5%3A30&To=whatsapp%3A%2B1&Where=O'Hare"

    assert [url.partition("?")[2] for url in public_urls(v2(event))] == [
        "Body=it%27s+5%3A30&To=whatsapp%3A%2B1&Where=O'Hare",
        "Body=it's+5%3A30&To=whatsapp%3A%2B1&Where=O'Hare",
        "Body=it's+5:30&To=whatsapp:%2B1&Where=O'Hare",
        "Body=it%27s+5%3A30&To=whatsapp%3A%2B1&Where=O%27Hare",
    ]


def test_http_api_url_without_those_characters_is_tried_once():
    event = v2_request("http_api", "GET", [("Body", "plain text")])

    assert len(public_urls(v2(event))) == 1


def test_function_url_url_is_its_host_and_raw_path():
    assert public_urls(v2(v2_request("function_url"))) == [f"https://{FUNCTION_URL_HOST}/sms"]


def test_configured_url_is_used_exactly_for_a_post(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://proxy.example.com/hooks/sms?key=1")

    assert public_urls(rest(rest_request())) == ["https://proxy.example.com/hooks/sms?key=1"]


def test_configured_url_takes_the_query_string_of_a_get(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://proxy.example.com/sms")
    event = v2_request("http_api", "GET", [("Body", "hi")])

    assert public_urls(v2(event)) == ["https://proxy.example.com/sms?Body=hi"]


def test_configured_url_ignores_surrounding_spaces(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "  https://proxy.example.com/sms \n")

    assert public_urls(rest(rest_request())) == ["https://proxy.example.com/sms"]


def test_url_for_logs_leaves_out_the_query_string():
    event = rest_request("GET", [("From", "+14155551234")])

    assert public_url_for_logs(rest(event)) == REST_URL


def test_rest_get_keeps_the_order_of_the_fields_as_they_arrived():
    fields = [("Zebra", "1"), ("Apple", "2")]

    assert public_urls(rest(rest_request("GET", fields))) == [f"{REST_URL}?Zebra=1&Apple=2"]


def test_rest_get_tries_each_distinct_encoding_once():
    assert len(public_urls(rest(rest_request("GET", [("Body", "plain")])))) == 1


def test_an_http_api_event_without_a_domain_name_has_no_public_url():
    event = v2_request()
    del event["requestContext"]["domainName"]

    assert public_urls(v2(event)) == []


# Where replies ask Twilio to report their delivery


def test_status_callback_url_is_the_status_route_beside_the_stage_url():
    assert status_callback_url(rest(rest_request())) == REST_URL.replace("/sms", "/status")


def test_status_callback_url_keeps_a_custom_domain_base_path():
    event = rest_request(domain="api.example.com", path="/twilio/sms", public_path="/twilio/sms")

    assert status_callback_url(rest(event)) == "https://api.example.com/twilio/status"


def test_status_callback_url_drops_a_get_webhooks_query_string():
    event = v2_request("function_url", "GET", [("Body", "hi")])

    assert status_callback_url(v2(event)) == f"https://{FUNCTION_URL_HOST}/status"


def test_status_callback_url_follows_a_configured_webhook_url(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://abcd.ngrok-free.app/sms")

    assert status_callback_url(rest(rest_request())) == "https://abcd.ngrok-free.app/status"


def test_without_a_public_url_there_is_no_status_callback_url():
    event = rest_request()
    del event["requestContext"]["domainName"]

    assert status_callback_url(rest(event)) is None


def test_status_requests_are_checked_against_the_configured_urls_sibling(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://proxy.example.com/hooks/sms")
    event = rest_request(path="/status", public_path="/Prod/status")

    assert public_urls(rest(event)) == ["https://proxy.example.com/hooks/status"]


def test_sibling_url_replaces_the_last_segment_and_drops_the_query():
    assert sibling_url("https://h.example.com/a/b/sms?x=1", "status") == (
        "https://h.example.com/a/b/status"
    )


# A query encoded again, never to other fields

TEXT = st.text(st.characters(exclude_categories=["Cs"]))
FIELDS = st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=4)
KEPT = st.sets(st.sampled_from("'!$()*,;:@/?~")).map("".join)


def test_rest_get_first_tries_the_apostrophe_as_twilio_signs_it():
    event = rest_request("GET", [("Body", "Don't"), ("FromCity", "COEUR D'ALENE")])

    assert public_urls(rest(event))[0] == f"{REST_URL}?Body=Don't&FromCity=COEUR+D'ALENE"


def test_rest_get_then_tries_colons_and_at_signs_as_they_are_too():
    event = rest_request("GET", [("Body", "it's 5:30 @ home")])

    assert public_urls(rest(event))[1] == f"{REST_URL}?Body=it's+5:30+@+home"


@given(text=TEXT)
def test_each_rest_encoding_is_urllibs_own(text):
    def java(value, safe="", encoding=None, errors=None):
        return quote_plus(value, safe="*").replace("~", "%7E")

    pairs = [("Body", text), ("From", "+1 415")]
    expected = [
        urlencode(pairs, safe="'"),
        urlencode(pairs, safe="':@"),
        *(urlencode(pairs, quote_via=via) for via in (quote_plus, quote, java)),
    ]

    urls = public_urls(rest(rest_request("GET", pairs)))

    assert urls == [f"{REST_URL}?{query}" for query in dict.fromkeys(expected)]


@given(pairs=FIELDS)
def test_each_rest_encoding_reads_as_the_fields_the_event_holds(pairs):
    """No signature made for other fields (a value that swallows the next field, a `+` that was
    a space) holds for these."""
    request = rest(rest_request("GET", pairs))

    for url in public_urls(request):
        assert parse_form(query_of(url)) == FormFields.from_pairs(request.decoded_query)


@given(pairs=FIELDS, kept=KEPT, quote_via=st.sampled_from([quote_plus, quote]))
def test_each_raw_query_tried_reads_as_the_fields_sent(pairs, kept, quote_via):
    event = v2_request("function_url", "GET")
    event["rawQueryString"] = urlencode(pairs, safe=kept, quote_via=quote_via)

    for url in public_urls(v2(event)):
        assert parse_form(query_of(url)) == parse_form(event["rawQueryString"].encode())


@given(pairs=FIELDS)
def test_at_most_five_urls_are_tried(pairs):
    assert len(public_urls(rest(rest_request("GET", pairs)))) <= 5


def query_of(url: str) -> bytes:
    return url.partition("?")[2].encode()
