"""The sample events in events/, run with env.json as `sam local invoke` would, stay current."""

import json
import re
from pathlib import Path

import pytest
from twilio_requests import response_header

from devtools.make_event import SAMPLES, signed_event, to_json

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env_json(monkeypatch):
    """The function's environment from env.json, as `--env-vars env.json` gives it."""
    for name, value in json.loads((PROJECT / "env.json").read_text())["WebhookFunction"].items():
        monkeypatch.setenv(name, value)


def sample(name: str) -> dict:
    return json.loads((PROJECT / "events" / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("sms", "I'm busy questing right now!"),
        ("sms-get", "I'm busy questing right now!"),
        ("mms", "Got your 2 attachment(s): image/jpeg, video/mp4."),
        ("whatsapp", "I'm busy questing right now!"),
        ("whatsapp-location", "I'm busy questing right now!"),
    ],
)
def test_signed_samples_are_answered_with_twiml(invoke, env_json, name, answer):
    response = invoke(sample(name))

    assert response["statusCode"] == 200
    assert response_header(response, "Content-Type") == "text/xml"
    assert f">{answer}</Message>" in response["body"]


def test_sample_with_a_bad_signature_is_rejected(invoke, env_json):
    assert invoke(sample("bad-signature"))["statusCode"] == 403


def test_post_sample_has_a_base64_body():
    assert sample("sms")["isBase64Encoded"] is True


def test_mms_sample_carries_two_media_items(invoke, env_json, logs):
    invoke(sample("mms"))

    assert logs.records[-1]["media_count"] == 2


def test_whatsapp_sample_reaches_reply_code_with_the_senders_profile_name(
    invoke, env_json, received
):
    invoke(sample("whatsapp"))

    assert (received[0].channel, received[0].profile_name) == ("whatsapp", "Ada Lovelace")


def test_whatsapp_location_sample_shares_its_place(invoke, env_json, received):
    invoke(sample("whatsapp-location"))

    assert received[0].location == SAMPLES["whatsapp-location"]["location"]


def test_env_json_token_is_marked_as_a_public_test_value():
    token = json.loads((PROJECT / "env.json").read_text())["WebhookFunction"]["TWILIO_AUTH_TOKEN"]

    assert "public-test" in token


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_what_make_events_writes(name, env_json):
    regenerated = to_json(signed_event(**SAMPLES[name]))

    assert (PROJECT / "events" / f"{name}.json").read_text() == regenerated


def test_every_sample_is_in_events_where_your_own_events_may_sit_too():
    assert set(SAMPLES) <= {path.stem for path in (PROJECT / "events").glob("*.json")}


def test_the_docs_list_every_sample_and_nothing_else():
    docs = (PROJECT / "docs" / "local-development.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)\.json` \|", docs, re.M)

    assert sorted(listed) == sorted(SAMPLES)
