"""What Twilio (and anyone else) gets back from the deployed function, front door by front door."""

import base64

import pytest

import handler
from devtools.twilio_message import form_encode
from sms_webhook.telemetry import pseudonym
from sms_webhook.twiml import Text
from tests.support.twilio_requests import (
    FUNCTION_URL_HOST,
    HTTP_API_HOST,
    REST_URL,
    SENDER,
    SMS,
    TOKEN,
    WHATSAPP,
    response_header,
    rest_request,
    signed,
    v2_request,
    with_fields,
    with_header,
)

AUTO_REPLY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Message action="{REST_URL.replace("/sms", "/status")}" method="POST">'
    "I'm busy questing right now!</Message></Response>"
)


def is_twiml_answer(response: dict) -> bool:
    return (
        response["statusCode"] == 200
        and response_header(response, "Content-Type") == "text/xml"
        and response["body"].startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
    )


# Front doors and the URL Twilio called


def test_rest_api_post_with_plain_body_is_answered_with_twiml(invoke):
    response = invoke(signed(rest_request(), REST_URL))

    assert is_twiml_answer(response)


def test_rest_api_post_with_base64_body_is_answered_with_twiml(invoke):
    response = invoke(signed(rest_request(base64_body=True), REST_URL))

    assert is_twiml_answer(response)


def test_the_default_reply_is_the_auto_reply_message(invoke):
    response = invoke(signed(rest_request(), REST_URL))

    assert response["body"] == AUTO_REPLY


def test_a_whatsapp_message_is_answered_with_the_same_twiml_as_an_sms(invoke):
    response = invoke(signed(rest_request("POST", WHATSAPP), REST_URL, WHATSAPP))

    assert is_twiml_answer(response)
    assert response["body"] == AUTO_REPLY


def test_rest_api_get_with_fields_in_the_query_string_is_answered(invoke, received):
    event = signed(rest_request("GET"), f"{REST_URL}?{form_encode(SMS)}")

    assert is_twiml_answer(invoke(event))
    assert received[0].body == "How are you doing?"


def test_rest_api_on_another_stage_name_is_answered(invoke):
    event = rest_request(public_path="/v2/sms")

    response = invoke(
        signed(event, "https://abc123defg.execute-api.us-east-1.amazonaws.com/v2/sms")
    )

    assert is_twiml_answer(response)


def test_rest_api_on_a_custom_domain_without_base_path_is_answered(invoke):
    event = rest_request(domain="sms.example.com", public_path="/sms")

    assert is_twiml_answer(invoke(signed(event, "https://sms.example.com/sms")))


def test_rest_api_on_a_custom_domain_with_a_base_path_mapping_is_answered(invoke):
    event = rest_request(domain="api.example.com", path="/twilio/sms", public_path="/twilio/sms")

    assert is_twiml_answer(invoke(signed(event, "https://api.example.com/twilio/sms")))


def test_http_api_post_is_answered(invoke):
    event = signed(v2_request("http_api"), f"https://{HTTP_API_HOST}/sms")

    response = invoke(event)

    assert is_twiml_answer(response)
    assert response["headers"]["Content-Type"] == "text/xml"


def test_http_api_on_a_named_stage_is_answered(invoke):
    event = v2_request("http_api", raw_path="/prod/sms", stage="prod")

    assert is_twiml_answer(invoke(signed(event, f"https://{HTTP_API_HOST}/prod/sms")))


def test_function_url_post_is_answered(invoke):
    event = signed(v2_request("function_url"), f"https://{FUNCTION_URL_HOST}/sms")

    assert is_twiml_answer(invoke(event))


def test_function_url_get_is_answered(invoke, received):
    event = v2_request("function_url", "GET")

    response = invoke(signed(event, f"https://{FUNCTION_URL_HOST}/sms?{form_encode(SMS)}"))

    assert is_twiml_answer(response)
    assert received[0].from_number == "+14155551234"


def test_configured_webhook_url_is_what_signatures_are_checked_against(invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://abcd-1234.ngrok-free.app/sms")

    response = invoke(signed(rest_request(), "https://abcd-1234.ngrok-free.app/sms"))

    assert is_twiml_answer(response)


def test_configured_webhook_url_replaces_the_stage_url(invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://abcd-1234.ngrok-free.app/sms")

    assert invoke(signed(rest_request(), REST_URL))["statusCode"] == 403


def test_signature_made_on_the_url_with_port_443_is_accepted(invoke):
    url = "https://abc123defg.execute-api.us-east-1.amazonaws.com:443/Prod/sms"

    assert is_twiml_answer(invoke(signed(rest_request(), url)))


def test_signature_header_name_is_matched_whatever_its_case(invoke):
    event = signed(rest_request(), REST_URL)
    value = event["headers"].pop("X-Twilio-Signature")
    del event["multiValueHeaders"]["X-Twilio-Signature"]

    response = invoke(with_header(event, "x-twilio-signature", value))

    assert is_twiml_answer(response)


# The message reaches the reply code intact


def test_japanese_and_emoji_text_reach_the_reply_code(invoke, received):
    fields = with_fields(SMS, Body="こんにちは、元気ですか？ 🎉")

    invoke(signed(rest_request(fields=fields, base64_body=True), REST_URL, fields))

    assert received[0].body == "こんにちは、元気ですか？ 🎉"


def test_spaces_written_as_percent_20_reach_the_reply_code(invoke, received):
    event = rest_request()
    event["body"] = event["body"].replace("How+are+you+doing", "How%20are%20you%20doing")

    invoke(signed(event, REST_URL))

    assert received[0].body == "How are you doing?"


def test_repeated_field_names_are_all_signed_and_kept(invoke, received):
    fields = [*SMS, ("Tag", "b"), ("Tag", "a")]

    response = invoke(signed(rest_request(fields=fields), REST_URL, fields))

    assert is_twiml_answer(response)
    assert received[0].fields["Tag"] == "b"


def test_empty_fields_are_signed_and_kept(invoke, received):
    invoke(signed(rest_request(), REST_URL))

    assert received[0].fields["ToCity"] == ""


# Rejections


def test_missing_signature_is_rejected_with_403_and_no_twiml(invoke):
    response = invoke(rest_request())

    assert response["statusCode"] == 403
    assert "<Response" not in response["body"]


def test_empty_signature_is_rejected_with_403(invoke):
    assert invoke(with_header(rest_request(), "X-Twilio-Signature", ""))["statusCode"] == 403


def test_signature_made_with_another_token_is_rejected(invoke):
    event = signed(rest_request(), REST_URL, token="someone-elses-token")

    assert invoke(event)["statusCode"] == 403


def test_tampered_body_is_rejected(invoke):
    event = signed(rest_request(), REST_URL)
    event["body"] = event["body"].replace("How+are+you", "Send+me+money")

    assert invoke(event)["statusCode"] == 403


def test_signature_for_another_stage_is_rejected(invoke):
    staging = "https://abc123defg.execute-api.us-east-1.amazonaws.com/Staging/sms"

    assert invoke(signed(rest_request(), staging))["statusCode"] == 403


def test_signature_for_http_instead_of_https_is_rejected(invoke):
    http_url = REST_URL.replace("https://", "http://")

    assert invoke(signed(rest_request(), http_url))["statusCode"] == 403


def test_reply_code_is_not_called_for_a_rejected_request(invoke, received):
    invoke(signed(rest_request(), REST_URL, token="someone-elses-token"))

    assert received == []


def test_body_that_is_not_base64_is_rejected_with_400(invoke):
    event = signed(rest_request(), REST_URL)
    event["isBase64Encoded"] = True
    event["body"] = "This is not base64!"

    assert invoke(event)["statusCode"] == 400


def test_body_that_is_not_utf8_is_rejected_with_400(invoke):
    event = signed(rest_request(), REST_URL)
    event["isBase64Encoded"] = True
    event["body"] = base64.b64encode(b"Body=\xff\xfe").decode()

    assert invoke(event)["statusCode"] == 400


def test_unknown_path_is_404(invoke):
    event = signed(rest_request(path="/voice", public_path="/Prod/voice"), REST_URL)

    assert invoke(event)["statusCode"] == 404


def test_unknown_path_on_an_http_api_is_404(invoke):
    assert invoke(v2_request(raw_path="/admin"))["statusCode"] == 404


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_other_methods_are_405_with_the_allowed_ones_named(invoke, method):
    response = invoke(rest_request(method))

    assert response["statusCode"] == 405
    assert response_header(response, "Allow") == "GET, POST"


def test_an_event_that_is_not_an_http_request_is_400(invoke):
    sqs_event = {"Records": [{"eventSource": "aws:sqs", "body": "hello"}]}

    assert invoke(sqs_event)["statusCode"] == 400


# Our own misconfiguration and bugs: 5xx with a clear log line


def test_no_token_configured_is_500_and_says_why_in_the_log(invoke, logs, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    response = invoke(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 500
    assert "TWILIO_AUTH_TOKEN_PARAMETER" in logs.records[-1]["reason"]


def test_a_failing_reply_is_500_logged_with_its_type_and_line_only(invoke, logs, answer_with):
    def broken_reply(message):
        raise KeyError(message.from_number)

    answer_with(broken_reply)

    response = invoke(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 500
    assert response["body"] == "Internal Server Error"
    record = logs.records[-1]
    assert (record["message"], record["error"]) == ("unexpected error", "KeyError")
    assert "test_handler.py" in record["at"]
    assert "+14155551234" not in logs.text
    assert "Traceback" not in logs.text


# Logs


def test_an_answered_message_is_logged_once_with_sender_pseudonym_sid_and_length(invoke, logs):
    invoke(signed(rest_request(), REST_URL))

    [record] = logs.records
    assert record["message"] == "incoming message"
    assert record["from"] == pseudonym(SENDER, TOKEN)
    assert record["message_sid"] == "SM0123456789abcdef0123456789abcdef"
    assert record["body_length"] == len("How are you doing?")
    assert "body" not in record
    assert "+14155551234" not in logs.text


def test_a_whatsapp_sender_is_logged_as_a_pseudonym_that_keeps_the_channel(invoke, logs):
    invoke(signed(rest_request("POST", WHATSAPP), REST_URL, WHATSAPP))

    sender = logs.records[-1]["from"]
    assert sender == pseudonym(dict(WHATSAPP)["From"], TOKEN)
    assert sender.startswith("whatsapp:+1…34#")


def test_the_message_body_is_logged_only_at_debug(invoke, logs):
    handler.logger.setLevel("DEBUG")

    invoke(signed(rest_request(), REST_URL))

    assert logs.records[-1]["body"] == "How are you doing?"


def test_log_lines_carry_the_request_id_as_correlation_id(invoke, logs):
    invoke(signed(rest_request(), REST_URL))

    assert logs.records[0]["correlation_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_a_rejected_request_is_logged_with_the_reason_and_url(invoke, logs):
    invoke(signed(rest_request(), REST_URL, token="someone-elses-token"))

    [record] = logs.records
    assert record["message"] == "request rejected"
    assert record["reason"] == "signature does not match the URL and fields"
    assert record["url"] == REST_URL


def test_a_missing_signature_is_logged_as_such(invoke, logs):
    invoke(rest_request())

    assert logs.records[0]["reason"] == "missing X-Twilio-Signature header"


def test_the_token_never_appears_in_logs_or_answers(invoke, logs):
    handler.logger.setLevel("DEBUG")
    events = [
        signed(rest_request(), REST_URL),
        signed(rest_request(), REST_URL, token="someone-elses-token"),
        rest_request(),
        rest_request("DELETE"),
        {"not": "an http event"},
    ]

    answers = [invoke(event) for event in events]

    assert TOKEN not in logs.text
    assert all(TOKEN not in str(answer) for answer in answers)


# Metrics


def test_an_answered_message_is_counted_with_the_replies_and_segments_it_sends(invoke, published):
    invoke(signed(rest_request(), REST_URL))

    metrics = [(m["name"], m["value"]) for m in published()]
    assert metrics == [("MessagesReceived", 1.0), ("RepliesSent", 1.0), ("SegmentsSent", 1.0)]


def test_the_answers_segments_and_encoding_are_on_its_line_and_counted(
    invoke, logs, published, answer_with
):
    answer_with(lambda message: ["こんにちは" * 20, "See you"])

    invoke(signed(rest_request(), REST_URL))

    [record] = logs.records
    assert (record["replies"], record["segments"], record["encoding"]) == (2, 3, "UCS-2")
    assert ("SegmentsSent", 3.0) in [(m["name"], m["value"]) for m in published()]


def test_a_text_split_into_messages_counts_the_segments_of_each(invoke, logs, answer_with):
    answer_with(lambda message: "word " * 400)

    invoke(signed(rest_request(), REST_URL))

    record = logs.records[-1]
    assert (record["replies"], record["segments"], record["encoding"]) == (2, 11 + 3, "GSM-7")


@pytest.mark.parametrize(
    ("fields", "reply"),
    [
        (SMS, Text("Your ticket", media=["https://example.com/ticket.png"])),
        (WHATSAPP, "a" * 500),
        (SMS, None),
    ],
    ids=["mms", "whatsapp", "no reply"],
)
def test_an_mms_a_whatsapp_message_or_no_reply_counts_no_segment(
    invoke, logs, published, answer_with, fields, reply
):
    answer_with(lambda message: reply)

    invoke(signed(rest_request("POST", fields), REST_URL, fields))

    record = logs.records[-1]
    assert (record["segments"], "encoding" in record) == (0, False)
    assert ("SegmentsSent", 0.0) in [(m["name"], m["value"]) for m in published()]


def test_metrics_carry_the_namespace_and_the_service(invoke, published):
    invoke(signed(rest_request(), REST_URL))

    for metric in published():
        assert (metric["namespace"], metric["service"]) == (
            "TwilioSmsWebhook",
            "twilio-sms-webhook",
        )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (rest_request(), "missing"),
        (with_header(rest_request(), "X-Twilio-Signature", ""), "empty"),
        (signed(rest_request(), REST_URL, token="another"), "mismatch"),
    ],
)
def test_a_rejection_is_counted_by_reason(invoke, published, event, reason):
    invoke(event)

    [metric] = published()
    assert (metric["name"], metric["rejection"]) == ("SignatureRejections", reason)


def test_replies_ask_twilio_to_report_delivery_to_the_status_route(invoke):
    response = invoke(signed(rest_request(), REST_URL))

    assert f'action="{REST_URL.replace("/sms", "/status")}" method="POST"' in response["body"]


def test_status_callbacks_can_be_turned_off(invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_STATUS_CALLBACKS", "off")

    assert "action=" not in invoke(signed(rest_request(), REST_URL))["body"]
