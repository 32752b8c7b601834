import json

import pytest

from sms_webhook.jobs import VERSION, ReplyJob, TextJob, UnreadableJobError, decode, encode
from sms_webhook.twiml import Text
from tests.support.twilio_requests import TEMPLATE_SID

FIELDS = (("MessageSid", "SM" + "1" * 32), ("Body", "REPORT"))


def test_a_reply_job_reads_back_as_it_was_written():
    job = ReplyJob(FIELDS, "https://example.com/status", handler="report", queued_at=1_700_000_000)

    assert decode(encode(job)) == job


def test_a_reply_made_too_late_for_twilio_reads_back_with_its_texts():
    texts = (Text("one"), Text("two", ("https://example.com/a.png",)))
    job = ReplyJob(FIELDS, None, texts=texts, queued_at=1_700_000_000)

    assert decode(encode(job)) == job


def test_a_text_job_reads_back_as_it_was_written():
    job = TextJob("+14155550100", "hi", ("https://example.com/a.png",), "k1", "AC1", "+1500", None)

    assert decode(encode(job)) == job


def test_a_template_job_reads_back_with_its_template_and_variables():
    job = TextJob(
        "whatsapp:+14155550100",
        "",
        (),
        "k1",
        "AC1",
        "+1500",
        None,
        queued_at=1_700_000_000,
        template="HX" + "0" * 32,
        variables='{"1": "Ana", "2": "3pm"}',
    )

    assert decode(encode(job)) == job


def test_a_text_job_without_a_template_is_written_as_the_release_before_wrote_it():
    job = TextJob("+14155550100", "hi", (), "k1", "", "", None)

    assert {"template", "variables"}.isdisjoint(json.loads(encode(job)))


def test_a_text_job_queued_by_the_release_before_templates_reads_as_a_text():
    body = json.dumps(
        {
            "version": 1,
            "job": "text",
            "to": "+14155550100",
            "body": "hi",
            "media": [],
            "key": "k1",
            "account_sid": "",
            "sender": "",
            "status_callback": None,
            "queued_at": 1_700_000_000,
        }
    )

    assert decode(body) == TextJob(
        "+14155550100", "hi", (), "k1", "", "", None, queued_at=1_700_000_000
    )


def test_a_job_says_the_version_of_its_format():
    job = TextJob("+14155550100", "hi", (), "k1", "", "", None)

    assert json.loads(encode(job))["version"] == 1


def test_a_template_text_is_written_in_the_newest_version_which_the_release_before_refuses():
    job = TextJob("whatsapp:+14155550100", "", (), "k1", "", "", None, template=TEMPLATE_SID)

    assert json.loads(encode(job))["version"] == VERSION == 2
    assert decode(encode(job)) == job


def test_a_job_queued_before_versions_finds_its_handler_by_the_functions_name():
    body = json.dumps(
        {
            "job": "reply",
            "route": "replies.report",
            "fields": [list(pair) for pair in FIELDS],
            "status_callback": None,
            "queued_at": 1_700_000_000,
        }
    )

    assert decode(body) == ReplyJob(FIELDS, None, handler="report", queued_at=1_700_000_000)


def test_a_job_of_a_newer_version_is_refused_and_says_which():
    with pytest.raises(UnreadableJobError, match="version 3"):
        decode(json.dumps({"version": 3, "job": "text"}))


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"version": 1, "job": "poem"}',
        '{"version": 1, "job": "text", "to": "+14155550100"}',
        '{"version": 1, "job": "reply", "fields": [], "status_callback": null}',
    ],
    ids=["not-json", "not-an-object", "unknown-kind", "text-missing-fields", "reply-with-nothing"],
)
def test_what_is_no_job_is_an_unreadable_job_error(body):
    with pytest.raises(UnreadableJobError):
        decode(body)


def test_an_unreadable_job_error_holds_nothing_the_job_said():
    body = json.dumps({"version": 1, "job": "text", "to": "+14155550100", "body": "secret code"})

    with pytest.raises(UnreadableJobError) as raised:
        decode(body)

    assert "secret" not in str(raised.value)
    assert "+1415" not in str(raised.value)


def test_a_handler_named_with_a_dot_keeps_its_whole_name():
    job = ReplyJob(FIELDS, None, handler="report.daily", queued_at=1_700_000_000)

    assert decode(encode(job)) == job
