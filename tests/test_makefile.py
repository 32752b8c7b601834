"""The Makefile's own targets, run as a user runs them in a shell at the project's root."""

import json
import os
import shlex
import subprocess

from sms_webhook.message import Button, Location
from tests.support.builds import PROJECT
from tests.support.local_project import without_make


def make(*arguments: str) -> subprocess.CompletedProcess:
    """`make` with the virtualenv as it is (-o: the tests install nothing)."""
    return run_make("-o", ".venv/.runtime", *arguments)


def run_make(
    *arguments: str, timeout: int = 120, check: bool = True
) -> subprocess.CompletedProcess:
    """`make` in the project, as typed at a shell (not under another make)."""
    return subprocess.run(
        ["make", *arguments],  # noqa: S607 - make from PATH, as typed
        cwd=PROJECT,
        env=without_make(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def test_make_event_prints_a_post_event_and_nothing_else(invoke, received):
    event = json.loads(make("event", "BODY=hi").stdout)

    assert event["httpMethod"] == "POST"
    assert invoke(event)["statusCode"] == 200
    assert received[0].body == "hi"


def test_make_event_takes_the_body_and_the_button_as_typed(invoke, received):
    typed = 'price $5 and $$10, `id` "quoted"; it\'s'
    event = json.loads(
        make(
            "-o", ".venv/.runtime", "event", f"BODY={typed}", "CHANNEL=whatsapp", f"BUTTON={typed}"
        ).stdout
    )

    invoke(event)
    assert received[0].button == Button(typed, typed)


def test_make_event_get_1_prints_a_get_event():
    assert json.loads(make("event", "BODY=hi", "GET=1").stdout)["httpMethod"] == "GET"


def test_make_event_channel_whatsapp_prints_a_whatsapp_event(invoke, received):
    event = json.loads(make("event", "BODY=hi", "CHANNEL=whatsapp").stdout)

    assert invoke(event)["statusCode"] == 200
    assert (received[0].channel, received[0].body) == ("whatsapp", "hi")


def test_make_event_location_may_start_with_a_minus_sign(invoke, received):
    event = json.loads(
        make(
            "-o", ".venv/.runtime", "event", "CHANNEL=whatsapp", "LOCATION=-33.8688,151.2093"
        ).stdout
    )

    invoke(event)
    assert received[0].location == Location(-33.8688, 151.2093)


def test_make_help_shows_the_port_the_webhook_would_listen_on():
    listing = make("help", "PORT=8080").stdout

    assert "http://127.0.0.1:8080/sms" in listing
    assert "$(" not in listing


SAM_BUILD_OUTPUT = (
    r"Build Succeeded\n\nCommands you can use next\n=========================\n"
    r"[*] Deploy: sam deploy --guided\n"
)
"""How `sam build` ends, as printf's format: hints for commands the Makefile runs for you."""


def build_with(sam_build: str) -> subprocess.CompletedProcess:
    """The Makefile's `sam build` step (make build, make invoke) run with `sam_build` in its
    place: nothing is built."""
    target = ".aws-sam/build/template.yaml"
    return run_make(
        "-B", "-o", ".venv/.dev", target, f"SAM_BUILD={sam_build}", timeout=60, check=False
    )


def test_sam_builds_hints_are_left_out_and_the_rest_is_shown():
    built = build_with(f"printf {shlex.quote(SAM_BUILD_OUTPUT)}")

    assert built.returncode == 0
    assert "Build Succeeded" in built.stderr
    assert "sam deploy --guided" not in built.stderr + built.stdout


def test_a_failed_sam_build_still_fails_the_step():
    assert build_with("false").returncode != 0
