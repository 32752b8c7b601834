"""Reading the form fields out of the body or the query string, losing nothing."""

import base64
import re
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_webhook.form import (
    MAX_FIELDS,
    MAX_FORM_SIZE,
    FormFields,
    TooLargeError,
    UndecodableError,
    decode_body,
    parse_form,
    request_fields,
)
from sms_webhook.proxy_event import read_request
from tests.support.twilio_requests import SMS, rest_request, v2_request


def b64(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return base64.b64encode(data).decode()


def test_plain_body_is_taken_as_it_is():
    assert decode_body("Body=hi", is_base64_encoded=False) == b"Body=hi"


def test_base64_body_is_decoded():
    assert decode_body(b64("Body=hi"), is_base64_encoded=True) == b"Body=hi"


@pytest.mark.parametrize("body", [None, ""])
def test_no_body_is_empty(body):
    assert decode_body(body, is_base64_encoded=True) == b""


@pytest.mark.parametrize("body", ["not base64!", "Qm9keT1oaQ", "Qm9k\u00e9eT1oaQ=="])
def test_body_that_is_not_valid_base64_is_undecodable(body):
    with pytest.raises(UndecodableError):
        decode_body(body, is_base64_encoded=True)


def test_a_field_that_is_not_utf8_is_undecodable():
    with pytest.raises(UndecodableError):
        parse_form(decode_body(b64(b"Body=\xff"), is_base64_encoded=True))


def test_plus_and_percent_20_are_both_spaces():
    assert parse_form(b"Body=How+are%20you")["Body"] == ["How are you"]


def test_utf8_text_survives():
    fields = parse_form(b"Body=%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF+%F0%9F%8E%89")

    assert fields.first("Body") == "こんにちは 🎉"


def test_empty_values_are_kept():
    assert parse_form(b"ToCity=&Body=hi") == {"ToCity": [""], "Body": ["hi"]}


def test_repeated_names_keep_every_value_in_order():
    assert parse_form(b"Tag=b&Body=hi&Tag=a")["Tag"] == ["b", "a"]


def test_fields_keep_their_arrival_order():
    assert list(parse_form(b"Zebra=1&Apple=2")) == ["Zebra", "Apple"]


def test_percent_encoding_that_is_not_utf8_is_undecodable():
    with pytest.raises(UndecodableError):
        parse_form(b"Body=%FF")


def test_getall_is_every_value_of_a_name():
    assert FormFields.from_pairs([("a", "1"), ("a", "2")]).getall("a") == ["1", "2"]


def test_first_of_a_field_not_sent_is_empty():
    assert FormFields().first("Body") == ""


def test_post_fields_come_from_the_body():
    event = read_request(rest_request("POST", SMS, base64_body=True))

    assert request_fields(event) == FormFields.from_pairs(SMS)


def test_rest_get_fields_come_from_the_decoded_query_parameters():
    event = read_request(rest_request("GET", [("Body", "a b+c"), ("Tag", "1"), ("Tag", "2")]))

    assert request_fields(event) == {"Body": ["a b+c"], "Tag": ["1", "2"]}


def test_rest_get_with_only_single_value_parameters_is_read():
    event = rest_request("GET", [("Body", "hi")])
    event["multiValueQueryStringParameters"] = None

    assert request_fields(read_request(event)) == {"Body": ["hi"]}


def test_http_api_get_fields_come_from_the_raw_query_string():
    event = read_request(v2_request("http_api", "GET", [("Body", "a b"), ("Tag", "1")]))

    assert request_fields(event) == {"Body": ["a b"], "Tag": ["1"]}


def test_a_get_body_is_ignored():
    event = rest_request("GET", [("Body", "from the query")])
    event["body"] = "Body=from+the+body"

    assert request_fields(read_request(event)).first("Body") == "from the query"


def test_a_body_over_the_limit_is_too_large():
    with pytest.raises(TooLargeError):
        decode_body("a" * (MAX_FORM_SIZE + 1), is_base64_encoded=False)


def test_a_base64_body_decoding_to_over_the_limit_is_too_large():
    with pytest.raises(TooLargeError):
        decode_body(b64(b"a" * (MAX_FORM_SIZE + 3)), is_base64_encoded=True)


def test_a_body_of_exactly_the_limit_is_read():
    assert len(decode_body(b64(b"a" * MAX_FORM_SIZE), is_base64_encoded=True)) == MAX_FORM_SIZE


pairs = st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=8)


@given(fields=pairs, quote_via=st.sampled_from([quote_plus, quote]))
def test_forms_are_read_as_urllib_reads_them(fields, quote_via):
    encoded = urlencode(fields, quote_via=quote_via)

    assert parse_form(encoded.encode()) == FormFields.from_pairs(
        parse_qsl(encoded, keep_blank_values=True, errors="strict")
    )


@given(data=st.text(alphabet="ab=&+%3D\n\r %é", max_size=40))
def test_any_form_with_valid_escapes_is_read_as_urllib_reads_it(data):
    every_escape_valid = all(
        re.fullmatch(r"[0-9A-Fa-f]{2}", part[:2]) for part in data.split("%")[1:]
    )
    try:
        expected = FormFields.from_pairs(parse_qsl(data, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:  # an escape that is not UTF-8
        expected = None

    if every_escape_valid and expected is not None:
        assert parse_form(data.encode()) == expected
    else:
        with pytest.raises(UndecodableError):
            parse_form(data.encode())


def test_an_equals_sign_left_in_a_value_is_part_of_it():
    assert parse_form(b"Body=1=2%3D3&To=a==b") == {"Body": ["1=2=3"], "To": ["a==b"]}


@pytest.mark.parametrize("data", [b"Body=50%", b"Body=%4", b"Body=%zz", b"%=1"])
def test_a_percent_sign_not_followed_by_two_hex_digits_is_undecodable(data):
    with pytest.raises(UndecodableError):
        parse_form(data)


def test_a_form_with_more_fields_than_twilio_ever_sends_is_too_large():
    with pytest.raises(TooLargeError):
        parse_form(b"&".join([b"a=1"] * (MAX_FIELDS + 1)))


def test_a_form_with_as_many_fields_as_allowed_is_read():
    assert len(parse_form(b"&".join(b"a%d=1" % n for n in range(MAX_FIELDS)))) == MAX_FIELDS
