"""POST /status: Twilio's delivery status callbacks for the replies, logged and counted."""

from tests.support.twilio_requests import (
    DELIVERED,
    REST_URL,
    STATUS_URL,
    response_header,
    rest_request,
    signed,
    with_fields,
)

EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def status_callback(fields=DELIVERED, url=STATUS_URL) -> dict:
    event = rest_request(fields=fields, path="/status", public_path="/Prod/status")
    return signed(event, url, fields)


def test_a_signed_status_callback_gets_an_empty_twiml_response(invoke):
    response = invoke(status_callback())

    assert response["statusCode"] == 200
    assert response_header(response, "Content-Type") == "text/xml"
    assert response["body"] == EMPTY_RESPONSE


def test_the_status_is_logged_with_the_message_sid(invoke, logs):
    invoke(status_callback())

    [record] = logs.records
    assert record["message"] == "delivery status"
    assert record["message_sid"] == "SM0123456789abcdef0123456789abcdef"
    assert record["status"] == "delivered"
    assert "error_code" not in record


def test_a_failure_is_logged_with_its_error_code(invoke, logs):
    invoke(status_callback(with_fields(DELIVERED, MessageStatus="undelivered", ErrorCode="30003")))

    assert (logs.records[0]["status"], logs.records[0]["error_code"]) == ("undelivered", "30003")


def test_each_status_is_counted_with_the_status_as_dimension(invoke, published):
    invoke(status_callback(with_fields(DELIVERED, MessageStatus="sent")))

    [metric] = published()
    assert metric == {
        "name": "DeliveryStatus",
        "value": 1.0,
        "namespace": "TwilioSmsWebhook",
        "service": "twilio-sms-webhook",
        "status": "sent",
    }


def test_a_failed_delivery_is_counted_as_a_failure_and_by_error_code(invoke, published):
    invoke(status_callback(with_fields(DELIVERED, MessageStatus="failed", ErrorCode="30007")))

    metrics = {m["name"]: m for m in published()}
    assert metrics["DeliveryStatus"]["status"] == "failed"
    assert metrics["DeliveryFailures"]["value"] == 1.0
    assert metrics["DeliveryErrors"]["error_code"] == "30007"


def test_an_unknown_status_is_counted_as_other(invoke, published):
    invoke(status_callback(with_fields(DELIVERED, MessageStatus="x" * 30)))

    [metric] = published()
    assert metric["status"] == "other"


def test_an_error_code_that_is_not_a_number_is_counted_as_other(invoke, published):
    invoke(status_callback(with_fields(DELIVERED, MessageStatus="failed", ErrorCode="<script>")))

    metrics = {m["name"]: m for m in published()}
    assert metrics["DeliveryErrors"]["error_code"] == "other"


def test_an_unsigned_status_callback_is_rejected(invoke):
    event = rest_request(fields=DELIVERED, path="/status", public_path="/Prod/status")

    assert invoke(event)["statusCode"] == 403


def test_a_status_callback_signed_for_the_sms_url_is_rejected(invoke):
    assert invoke(status_callback(url=REST_URL))["statusCode"] == 403


def test_a_status_callback_through_a_configured_url_is_checked_on_its_sibling(invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://abcd.ngrok-free.app/sms")

    response = invoke(status_callback(url="https://abcd.ngrok-free.app/status"))

    assert response["statusCode"] == 200


def test_get_on_status_is_405(invoke):
    event = rest_request("GET", DELIVERED, path="/status", public_path="/Prod/status")

    response = invoke(event)

    assert response["statusCode"] == 405
    assert response_header(response, "Allow") == "POST"
