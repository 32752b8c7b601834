"""The Makefile's own targets, run as a user runs them in a shell at the project's root."""

import json
import os
import subprocess

from sms_webhook.message import Button, Location
from tests.support.builds import PROJECT
from tests.support.local_project import without_make


def make(*arguments: str) -> subprocess.CompletedProcess:
    """`make` with the virtualenv as it is (-o: the tests install nothing)."""
    return subprocess.run(
        ["make", "-o", ".venv/.runtime", *arguments],  # noqa: S607 - make from PATH, as typed
        cwd=PROJECT,
        env=without_make(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_make_event_prints_a_post_event_and_nothing_else(invoke, received):
    event = json.loads(make("event", "BODY=hi").stdout)

    assert event["httpMethod"] == "POST"
    assert invoke(event)["statusCode"] == 200
    assert received[0].body == "hi"


def test_make_event_takes_the_body_and_the_button_as_typed(invoke, received):
    typed = 'price $5 and $$10, `id` "quoted"; it\'s'
    event = json.loads(make("event", f"BODY={typed}", "CHANNEL=whatsapp", f"BUTTON={typed}").stdout)

    invoke(event)
    assert received[0].button == Button(typed, typed)


def test_make_event_get_1_prints_a_get_event():
    assert json.loads(make("event", "BODY=hi", "GET=1").stdout)["httpMethod"] == "GET"


def test_make_event_channel_whatsapp_prints_a_whatsapp_event(invoke, received):
    event = json.loads(make("event", "BODY=hi", "CHANNEL=whatsapp").stdout)

    assert invoke(event)["statusCode"] == 200
    assert (received[0].channel, received[0].body) == ("whatsapp", "hi")


def test_make_event_location_may_start_with_a_minus_sign(invoke, received):
    event = json.loads(make("event", "CHANNEL=whatsapp", "LOCATION=-33.8688,151.2093").stdout)

    invoke(event)
    assert received[0].location == Location(-33.8688, 151.2093)


def test_make_help_shows_the_port_the_webhook_would_listen_on():
    listing = make("help", "PORT=8080").stdout

    assert "http://127.0.0.1:8080/sms" in listing
    assert "$(" not in listing
