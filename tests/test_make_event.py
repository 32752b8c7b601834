"""`make event`: new signed events, as API Gateway would deliver Twilio's request."""

import json

import pytest

from devtools import make_event
from devtools.make_event import SAMPLES, main, signed_event


def test_event_for_a_new_body_is_accepted_with_the_same_token(invoke, received):
    assert invoke(signed_event("hello there"))["statusCode"] == 200
    assert received[0].body == "hello there"


def test_get_event_carries_the_fields_in_the_query_string(invoke, received):
    event = signed_event("by GET", get=True)

    assert invoke(event)["statusCode"] == 200
    assert event["body"] is None
    assert event["multiValueQueryStringParameters"]["Body"] == ["by GET"]


def test_event_with_media_lists_them(invoke, received):
    invoke(signed_event("pic", media=[("https://example.com/a.png", "image/png")]))

    assert [m.content_type for m in received[0].media] == ["image/png"]


def test_forged_event_is_rejected(invoke):
    assert invoke(signed_event("let me in", forged=True))["statusCode"] == 403


def test_command_line_prints_the_event_as_json(capsys, invoke):
    main(["--body", "from the command line"])

    event = json.loads(capsys.readouterr().out)
    assert invoke(event)["statusCode"] == 200


@pytest.fixture
def events_folder(tmp_path, monkeypatch):
    """events/ for the test: the project's own stays as it is."""
    monkeypatch.setattr(make_event, "EVENTS", tmp_path)
    return tmp_path


def test_a_named_event_is_written_to_events_instead_of_printed(events_folder, capsys, invoke):
    main(["--body", "mine", "--name", "mine"])

    assert capsys.readouterr().out == ""
    assert invoke(json.loads((events_folder / "mine.json").read_text()))["statusCode"] == 200


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_name_of_a_sample_is_rejected(events_folder, capsys, name):
    with pytest.raises(SystemExit) as exit_status:
        main(["--body", "mine", "--name", name])

    assert exit_status.value.code == 2
    assert f"{name} is a sample's name" in capsys.readouterr().err
    assert list(events_folder.iterdir()) == []


@pytest.mark.parametrize("name", ["../mine", "sub/mine", ".mine", ""])
def test_a_name_that_is_not_a_plain_file_name_is_rejected(events_folder, capsys, name):
    with pytest.raises(SystemExit) as exit_status:
        main(["--body", "mine", "--name", name])

    assert exit_status.value.code == 2
    assert "is not a file name" in capsys.readouterr().err
    assert list(events_folder.iterdir()) == []
