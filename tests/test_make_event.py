"""`make event`: new signed events, as API Gateway would deliver Twilio's request."""

import json

import pytest

from devtools import make_event
from devtools.make_event import SAMPLE_NAMES, main, signed_event
from sms_webhook.message import Button, Location


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


def test_whatsapp_event_comes_from_a_whatsapp_sender_with_a_profile_name(invoke, received):
    assert invoke(signed_event("hi", channel="whatsapp"))["statusCode"] == 200
    assert (received[0].channel, received[0].from_number) == ("whatsapp", "whatsapp:+14155551234")
    assert received[0].profile_name == "Ada Lovelace"


def test_whatsapp_event_can_share_a_location(invoke, received):
    place = Location(-33.8688, 151.2093, "Bennelong Point, Sydney NSW 2000", "Opera House")

    invoke(signed_event("", channel="whatsapp", location=place))

    assert received[0].location == place


def test_command_line_makes_a_whatsapp_event_with_a_location(capsys, invoke, received):
    main(["--channel", "whatsapp", "--body", "", "--location=-33.8688,151.2093"])

    assert invoke(json.loads(capsys.readouterr().out))["statusCode"] == 200
    assert received[0].location == Location(-33.8688, 151.2093)


def test_command_line_presses_a_button_whose_text_is_the_body(capsys, invoke, received):
    main(["--channel", "whatsapp", "--body", "Yes, book it", "--button", "CONFIRM"])

    invoke(json.loads(capsys.readouterr().out))
    assert received[0].button == Button(text="Yes, book it", payload="CONFIRM")
    assert received[0].body == "Yes, book it"


@pytest.mark.parametrize("option", [["--location=37.7955,-122.3937"], ["--button", "CONFIRM"]])
def test_a_location_or_button_without_whatsapp_is_a_usage_error(capsys, option):
    with pytest.raises(SystemExit) as exit_status:
        main(["--body", "hi", *option])

    assert exit_status.value.code == 2
    assert "add --channel whatsapp" in capsys.readouterr().err


@pytest.mark.parametrize("place", ["37.7955", "north,west", "95,0", "1e1,2"])
def test_a_location_that_is_not_latitude_comma_longitude_is_a_usage_error(capsys, place):
    with pytest.raises(SystemExit) as exit_status:
        main(["--channel", "whatsapp", f"--location={place}"])

    assert exit_status.value.code == 2
    assert "is not LATITUDE,LONGITUDE in degrees" in capsys.readouterr().err


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


@pytest.mark.parametrize("name", SAMPLE_NAMES)
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
