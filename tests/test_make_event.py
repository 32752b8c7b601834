"""`make event`: new signed events, as API Gateway would deliver Twilio's request."""

import json

from devtools.make_event import main, signed_event


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


def test_forged_event_is_refused(invoke):
    assert invoke(signed_event("let me in", forged=True))["statusCode"] == 403


def test_command_line_prints_the_event_as_json(capsys, invoke):
    main(["--body", "from the command line"])

    event = json.loads(capsys.readouterr().out)
    assert invoke(event)["statusCode"] == 200
