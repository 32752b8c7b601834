"""`make send`: a text to the running `make run`, signed as Twilio signs it; replies printed."""

import socket
import subprocess

import pytest

from devtools.send import SendError, main, printed, send
from devtools.twilio_message import SENDER
from devtools.twiml_answer import OutgoingMessage
from tests.support.local_project import PROJECT

PICTURE = "https://example.com/cat.png"


def run_main(capsys, *arguments: str) -> tuple[int, str, str]:
    """`python -m devtools.send` in this process: exit status, stdout, stderr. (The server runs
    in this process too: the line it prints for the request is left out.)"""
    try:
        main(list(arguments))
        status = 0
    except SystemExit as exit:
        status = exit.code
    output = capsys.readouterr()
    sent = "".join(line for line in output.out.splitlines(True) if " ⇒ " not in line)
    return status, sent, output.err


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_the_reply_texts_are_printed_not_the_xml(local_server, capsys, answer_with):
    answer_with(lambda message: ["Small: $5", "Large: $8"])

    status, out, _ = run_main(capsys, "price", "--port", str(local_server.server_port))

    assert (status, out) == (0, "Small: $5\nLarge: $8\n")


def test_the_text_arrives_as_the_message_body(local_server, received):
    send('it\'s "quoted" & spaced', port=local_server.server_port)

    assert received[0].body == 'it\'s "quoted" & spaced'


def test_the_sender_is_the_sample_sender_unless_given(local_server, received):
    send("hi", port=local_server.server_port)
    send("hi", port=local_server.server_port, from_number="+447700900123")

    assert [message.from_number for message in received] == [SENDER, "+447700900123"]


def test_each_text_is_a_new_message(local_server, received):
    send("same", port=local_server.server_port)
    send("same", port=local_server.server_port)

    assert received[0].sid != received[1].sid
    assert all(message.sid.startswith("SM") and len(message.sid) == 34 for message in received)


def test_media_makes_an_mms_with_the_content_type_guessed_from_the_url(
    local_server, received, capsys
):
    run_main(capsys, "look", "--media", PICTURE, "--port", str(local_server.server_port))

    assert [(m.url, m.content_type) for m in received[0].media] == [(PICTURE, "image/png")]
    assert received[0].sid.startswith("MM")


def test_a_media_type_can_be_given(local_server, received, capsys):
    port = str(local_server.server_port)

    run_main(capsys, "look", "--media", PICTURE, "--media-type", "image/gif", "--port", port)

    assert received[0].media[0].content_type == "image/gif"


def test_a_media_url_that_tells_no_type_is_sent_as_a_jpeg(local_server, received, capsys):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM01/Media/ME01"

    run_main(capsys, "look", "--media", media, "--port", str(local_server.server_port))

    assert received[0].media[0].content_type == "image/jpeg"


def test_a_media_that_is_not_a_web_url_is_a_usage_error(capsys):
    status, _, err = run_main(capsys, "look", "--media", "cat.png")

    assert status == 2
    assert "MEDIA must be an http(s) URL, not 'cat.png'" in err


def test_no_reply_is_said_in_words(local_server, capsys, answer_with):
    answer_with(lambda message: None)

    status, out, _ = run_main(capsys, "hi", "--port", str(local_server.server_port))

    assert (status, out) == (
        0,
        "(no reply: the webhook answered an empty <Response/>; make run's line says so when the "
        "loop guard held it back)\n",
    )


def test_nothing_listening_is_one_line_saying_to_start_make_run(under_make, capsys):
    port = closed_port()

    status, out, err = run_main(capsys, "hi", "--port", str(port))

    assert (status, out) == (1, "")
    assert (
        err == f"nothing listens on http://127.0.0.1:{port}: start it with make run PORT={port}\n"
    )


def test_without_make_nothing_listening_says_the_command_to_start_it(by_hand, capsys):
    port = closed_port()

    status, out, err = run_main(capsys, "hi", "--port", str(port))

    assert (status, out) == (1, "")
    assert err == (
        f"nothing listens on http://127.0.0.1:{port}: start it with "
        f"python -m devtools.serve --port {port}\n"
    )


def test_a_rejection_says_why_and_which_token_signed(make_run, under_make, monkeypatch, capsys):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token-make-run-checks")

    status, _, err = run_main(capsys, "hi", "--port", str(make_run.port))

    assert status == 1
    assert err.startswith("403 Forbidden: invalid Twilio signature\n")
    assert "make send signed it with your TWILIO_AUTH_TOKEN" in err


def test_with_the_public_token_make_send_is_answered(public_token, local_server, received):
    assert send("hi", port=local_server.server_port)[0].text == "ok"


def test_an_error_in_reply_code_points_to_make_run_s_output(under_make, local_server, answer_with):
    def broken(message):
        raise RuntimeError

    answer_with(broken)

    with pytest.raises(SendError, match=r"500 Internal Server Error\n.*make run's output"):
        send("hi", port=local_server.server_port)


def test_a_message_s_further_lines_are_indented_and_its_media_listed():
    messages = [OutgoingMessage("one\ntwo", (PICTURE,)), OutgoingMessage("three")]

    assert printed(messages, SENDER) == f"one\n  two\n  [media] {PICTURE}\nthree"


def test_a_text_from_a_template_prints_the_template_and_variables_in_place_of_a_text():
    template = "HX0123456789abcdef0123456789abcdef"
    messages = [
        OutgoingMessage("", (), template, '{"1": "Ana"}'),
        OutgoingMessage("", (), template),
    ]

    assert (
        printed(messages, SENDER) == f'[template {template} {{"1": "Ana"}}]\n[template {template}]'
    )


def test_a_reply_of_more_than_one_plain_segment_says_what_it_costs(
    local_server, capsys, answer_with
):
    answer_with(lambda message: ["こんにちは" * 20, "Thanks “Ada”", "x" * 161, "See you"])

    status, out, _ = run_main(capsys, "hi", "--port", str(local_server.server_port))

    assert (status, out.splitlines()[1:]) == (
        0,
        [
            "  [2 SMS segments, UCS-2]",
            "Thanks “Ada”",
            "  [1 SMS segment, UCS-2]",
            "x" * 161,
            "  [2 SMS segments, GSM-7]",
            "See you",
        ],
    )


@pytest.mark.parametrize(
    ("message", "to"),
    [
        (OutgoingMessage("こんにちは" * 20, (PICTURE,)), SENDER),
        (OutgoingMessage("こんにちは" * 20), "whatsapp:+14155551234"),
    ],
    ids=["mms", "whatsapp"],
)
def test_an_mms_or_a_whatsapp_message_is_priced_per_message_and_says_nothing(message, to):
    assert "SMS segment" not in printed([message], to)


def test_make_send_passes_the_body_through_make_and_the_shell_untouched(local_server, received):
    body = 'price $5 and $$10, $(HOME) `id` it\'s "quoted"; (really) & spaced'

    port = local_server.server_port
    result = subprocess.run(
        ["make", "--no-print-directory", "send", f"BODY={body}", f"PORT={port}"],  # noqa: S607
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (0, "ok\n")
    assert received[0].body == body
