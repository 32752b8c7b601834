"""Threat: the same message delivered twice (Twilio's retries, the fallback URL) or replayed.

Each message is answered once: repeats get the first answer and the reply code runs once
(Powertools Idempotency on DynamoDB, in moto). A captured request stays signed when its fields
are re-split (Twilio's string to sign glues names to values): no such variant runs the reply code
again, and none without Twilio's own fields in Twilio's form reaches it at all.
"""

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from devtools.twilio_message import form_encode
from sms_webhook.form import FormFields
from tests.conftest import IDEMPOTENCY_TABLE
from tests.support.twilio_requests import (
    DELIVERED,
    MESSAGE_SID,
    REST_URL,
    SMS,
    STATUS_URL,
    TOKEN,
    rest_request,
    signed,
    with_fields,
    with_header,
)


@pytest.fixture
def replies(monkeypatch, answer_with):
    """Reply code that numbers its answers, so a repeated answer can be told from a new one."""
    calls = []

    def numbered(message):
        calls.append(message.sid)
        return f"answer number {len(calls)}"

    answer_with(numbered)
    return calls


def delivery(sid: str = MESSAGE_SID) -> dict:
    fields = with_fields(SMS, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    return signed(rest_request(fields=fields), REST_URL, fields)


def test_a_repeated_delivery_gets_the_first_answer(idempotency_table, invoke, replies):
    first = invoke(delivery())

    again = invoke(delivery())

    assert again["body"] == first["body"]
    assert "answer number 1" in again["body"]


def test_the_reply_code_runs_once_per_message(idempotency_table, invoke, replies):
    for _ in range(3):
        invoke(delivery())

    assert len(replies) == 1


def test_a_replayed_request_runs_nothing_again(idempotency_table, invoke, replies):
    captured = delivery()
    invoke(captured)

    replayed = invoke(captured)

    assert replayed["statusCode"] == 200
    assert len(replies) == 1


def test_another_message_gets_its_own_answer(idempotency_table, invoke, replies):
    invoke(delivery("SM1111111111111111111111111111111a"))

    second = invoke(delivery("SM2222222222222222222222222222222b"))

    assert "answer number 2" in second["body"]


def test_a_copy_arriving_while_the_first_is_answered_gets_an_empty_answer(
    idempotency_table, invoke, logs, answer_with
):
    copies = []

    def reply_while_a_copy_arrives(message):
        copies.append(invoke(delivery()))
        return "the only answer"

    answer_with(reply_while_a_copy_arrives)

    first = invoke(delivery())

    [copy] = copies
    assert (copy["statusCode"], copy["body"]) == (
        200,
        '<?xml version="1.0" encoding="UTF-8"?><Response />',
    )
    assert ">the only answer</Message>" in first["body"]
    assert "duplicate delivery while the first is answered" in logs.messages()


def test_a_failed_answer_is_not_remembered(idempotency_table, invoke, answer_with):
    def failing(message):
        raise RuntimeError("bug")

    answer_with(failing)
    invoke(delivery())
    answer_with(lambda message: "fixed")

    assert ">fixed</Message>" in invoke(delivery())["body"]


def test_the_records_hold_hashed_keys_and_the_answer_only(idempotency_table, invoke, replies):
    invoke(delivery())

    items = idempotency_table.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert len(items) == 2  # one under the MessageSid, one under the signature
    for item in items:
        assert set(item) == {"id", "expiration", "in_progress_expiration", "status", "data"}
        assert "SM0123456789abcdef0123456789abcdef" not in item["id"]["S"]
        assert "+1415" not in str(item)


def test_the_records_hold_what_the_reply_code_echoed(idempotency_table, invoke, answer_with):
    answer_with(lambda message: f"Hello {message.from_number}")

    invoke(delivery())

    assert all(
        "+14155551234" in str(item)
        for item in idempotency_table.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    )


def test_with_idempotency_off_every_delivery_runs_the_reply_code(invoke, replies):
    invoke(delivery())
    invoke(delivery())

    assert len(replies) == 2


def test_a_message_without_a_sid_is_rejected_without_a_record(idempotency_table, invoke, replies):
    fields = [(name, value) for name, value in SMS if not name.endswith("Sid")]

    response = invoke(signed(rest_request(fields=fields), REST_URL, fields))

    assert response["statusCode"] == 400
    assert replies == []
    assert idempotency_table.scan(TableName=IDEMPOTENCY_TABLE)["Items"] == []


# Re-split copies of one captured request


def captured_signature(fields=SMS, url=REST_URL) -> str:
    """The X-Twilio-Signature of the genuine request, as someone who captured it has it."""
    return signed(rest_request(fields=fields), url, fields)["headers"]["X-Twilio-Signature"]


def replayed(variant: list[tuple[str, str]], signature: str) -> dict:
    """The variant's fields POSTed with the captured signature, which must still hold for it."""
    assert RequestValidator(TOKEN).validate(REST_URL, FormFields.from_pairs(variant), signature)
    return with_header(rest_request(fields=variant), "X-Twilio-Signature", signature)


RE_SPLITS = {
    "sid-glued-to-its-name": [
        *[(n, v) for n, v in SMS if n != "MessageSid"],
        (f"MessageSid{MESSAGE_SID}", ""),
    ],
    "sid-absorbing-the-next-field": [
        *[(n, v) for n, v in SMS if n not in ("MessageSid", "NumMedia")],
        ("MessageSid", f"{MESSAGE_SID}NumMedia0"),
    ],
    "body-absorbing-the-sender": [
        *[(n, v) for n, v in SMS if n not in ("Body", "From")],
        ("Body", "How are you doing?From+14155551234"),
    ],
}


@pytest.mark.parametrize("variant", RE_SPLITS.values(), ids=RE_SPLITS.keys())
def test_a_re_split_copy_without_twilios_fields_is_rejected(
    idempotency_table, invoke, replies, variant
):
    signature = captured_signature()
    invoke(signed(rest_request(), REST_URL))

    response = invoke(replayed(variant, signature))

    assert response["statusCode"] == 400
    assert len(replies) == 1


@pytest.mark.parametrize("variant", RE_SPLITS.values(), ids=RE_SPLITS.keys())
def test_without_deduplication_a_re_split_copy_still_never_reaches_the_reply_code(
    invoke, replies, variant
):
    assert invoke(replayed(variant, captured_signature()))["statusCode"] == 400
    assert replies == []


FORGED_SID = "SM" + "f" * 32
CRAFTED_TEXT = f"hiFrom+19995550000MessageSid{FORGED_SID}To+15005550006Zz"
"""A text whose characters read as fields once re-split: another sender, another MessageSid."""


def crafted_capture() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The genuine fields of a message carrying `CRAFTED_TEXT`, and their forged re-split: every
    field Twilio requires, well-formed, the genuine ones after the text glued into `Zz`."""
    genuine = with_fields(SMS, Body=CRAFTED_TEXT)
    glued = "".join(f"{name}{value}" for name, value in sorted(genuine) if name > "Body")
    forged = [
        ("AccountSid", dict(genuine)["AccountSid"]),
        ("ApiVersion", "2010-04-01"),
        ("Body", "hi"),
        ("From", "+19995550000"),
        ("MessageSid", FORGED_SID),
        ("To", "+15005550006"),
        ("Zz", glued),
    ]
    return genuine, forged


def test_a_re_split_copy_with_well_formed_fields_gets_the_first_answer(
    idempotency_table, invoke, replies
):
    genuine, forged = crafted_capture()
    first = invoke(signed(rest_request(fields=genuine), REST_URL, genuine))

    again = invoke(replayed(forged, captured_signature(genuine)))

    assert again["statusCode"] == 200
    assert again["body"] == first["body"]
    assert replies == [dict(genuine)["MessageSid"]]


def with_query(event: dict, query: dict[str, str]) -> dict:
    """The event of a POST to the webhook URL with that query string (as configured in Twilio)."""
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()}
    return event


def test_a_copy_moving_characters_between_url_and_fields_gets_the_first_answer(
    idempotency_table, invoke, replies
):
    genuine, forged = crafted_capture()
    url = f"{REST_URL}?k=1"
    first = invoke(signed(with_query(rest_request(fields=genuine), {"k": "1"}), url, genuine))
    moved = [("1", ""), *forged]  # "…?k=" + "1" glues into the same string as "…?k=1"
    signature = signed(rest_request(fields=genuine), url, genuine)["headers"]["X-Twilio-Signature"]
    assert RequestValidator(TOKEN).validate(
        f"{REST_URL}?k=", FormFields.from_pairs(moved), signature
    )
    event = with_query(rest_request(fields=moved), {"k": ""})

    again = invoke(with_header(event, "X-Twilio-Signature", signature))

    assert again["body"] == first["body"]
    assert replies == [dict(genuine)["MessageSid"]]


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def re_splits(draw):
    """The genuine request's glued fields cut again: each boundary moved by a few characters."""
    pieces = [piece for name, value in sorted(SMS) for piece in (name, value)]
    glued = "".join(pieces)
    cuts, position = [], 0
    for piece in pieces[:-1]:
        position += len(piece)
        cuts.append(position + draw(st.integers(-4, 4)))
    cuts = sorted({min(max(cut, 0), len(glued)) for cut in cuts})
    parts = [glued[a:b] for a, b in zip([0, *cuts], [*cuts, len(glued)], strict=True)]
    return list(zip(parts[::2], [*parts[1::2], ""][: len(parts[::2])], strict=True))


@pytest.mark.slow
@SETTINGS
@given(variant=re_splits())
def test_no_re_split_of_a_captured_request_runs_the_reply_code_again(
    idempotency_table, invoke, replies, variant
):
    signature = captured_signature()
    first = invoke(signed(rest_request(), REST_URL))
    replies.clear()
    event = with_header(rest_request(fields=variant), "X-Twilio-Signature", signature)

    response = invoke(event)

    assert replies == []
    assert response["statusCode"] in (400, 403) or response["body"] == first["body"]


# A GET signature replayed as a POST


def test_a_post_without_fields_is_rejected_before_its_signature_is_checked(invoke, replies, logs):
    url = f"{REST_URL}?{form_encode(SMS)}"
    get_signature = signed(rest_request("GET"), url)["headers"]["X-Twilio-Signature"]
    event = with_header(rest_request(fields=[]), "X-Twilio-Signature", get_signature)
    event["requestContext"]["path"] = "/Prod/sms"
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in SMS}
    event["queryStringParameters"] = dict(SMS)

    response = invoke(event)

    assert response["statusCode"] == 400
    assert replies == []
    assert [r["reason"] for r in logs.records] == ["a POST without form fields"]


@pytest.mark.parametrize("body", ["", "&", "&&&"])
def test_a_post_whose_body_holds_no_field_is_rejected(invoke, replies, body):
    event = rest_request()
    event["body"] = body

    assert invoke(event)["statusCode"] == 400


def test_an_empty_base64_body_is_rejected(invoke):
    event = rest_request(base64_body=True)
    event["body"] = base64.b64encode(b"").decode()

    assert invoke(event)["statusCode"] == 400


# Status callbacks replayed


def status_callback(fields=DELIVERED) -> dict:
    event = rest_request(fields=fields, path="/status", public_path="/Prod/status")
    return signed(event, STATUS_URL, fields)


FAILED = with_fields(DELIVERED, MessageStatus="failed", SmsStatus="failed", ErrorCode="30007")


def failures(published) -> int:
    return sum(m["value"] for m in published() if m["name"] == "DeliveryFailures")


def test_a_replayed_failed_callback_counts_one_failure(idempotency_table, invoke, published):
    for _ in range(5):
        assert invoke(status_callback(FAILED))["statusCode"] == 200

    assert failures(published) == 1


def test_each_status_of_a_message_is_counted_once(idempotency_table, invoke, published):
    for status in ("sent", "sent", "undelivered", "undelivered"):
        invoke(status_callback(with_fields(DELIVERED, MessageStatus=status)))

    statuses = [m["status"] for m in published() if m["name"] == "DeliveryStatus" and "status" in m]
    assert statuses == ["sent", "undelivered"]


def test_a_status_callback_without_a_well_formed_sid_is_rejected(
    idempotency_table, invoke, published
):
    fields = [(n, v) for n, v in FAILED if n != "MessageSid"] + [(f"MessageSid{MESSAGE_SID}", "")]

    assert invoke(status_callback(fields))["statusCode"] == 400
    assert failures(published) == 0


def test_without_deduplication_each_callback_is_counted(invoke, published):
    invoke(status_callback(FAILED))
    invoke(status_callback(FAILED))

    assert failures(published) == 2
