"""`make run`: the webhook served on loopback, reached over real HTTP as through a tunnel."""

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

import handler
from devtools.console import banner, escaped, print_traceback, sent_line
from devtools.kept_timers import KeptClock, firing
from devtools.local_token import development_token, local_token
from devtools.loopback import is_loopback
from devtools.send import SendError, send
from devtools.send import main as send_main
from devtools.serve import fire_due_timers, kept_clock, local_run_here, use_local_outbox
from devtools.twilio_message import form_encode, twilio_signature
from devtools.webhook_server import WebhookServer
from sms_webhook import local_run
from sms_webhook.router import Router
from sms_webhook.sending import Outgoing
from sms_webhook.telemetry import pseudonym
from tests.conftest import STAFF
from tests.support import timer_replies
from tests.support.local_project import PROJECT, RunningServer, copy_of_project, eventually
from tests.support.twilio_requests import (
    ACCOUNT_SID,
    SENDER,
    SMS,
    TOKEN,
    TWILIO_NUMBER,
    with_fields,
)

TUNNEL_HOST = "abcd-1234.ngrok-free.app"


def post(server, body: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.request(
        "POST",
        "/sms",
        body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    return connection.getresponse()


def post_signed(server, fields=SMS) -> http.client.HTTPResponse:
    """A request to 127.0.0.1 signed as Twilio would sign it, read to the end."""
    url = f"https://127.0.0.1:{server.server_port}/sms"
    response = post(
        server, form_encode(fields), {"X-Twilio-Signature": twilio_signature(url, fields, TOKEN)}
    )
    response.read()
    return response


def serve(*arguments: str) -> subprocess.CompletedProcess:
    """`python -m devtools.serve` with these arguments, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "devtools.serve", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_signed_request_through_a_tunnel_is_answered_with_twiml(local_server):
    headers = {
        "Host": TUNNEL_HOST,
        "X-Twilio-Signature": twilio_signature(f"https://{TUNNEL_HOST}/sms", SMS, TOKEN),
    }

    response = post(local_server, form_encode(SMS), headers)

    assert response.status == 200
    assert response.getheader("Content-Type") == "text/xml"
    assert response.read().decode().startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_forwarded_host_is_the_public_host_when_a_tunnel_rewrites_host(local_server):
    headers = {
        "X-Forwarded-Host": TUNNEL_HOST,
        "X-Twilio-Signature": twilio_signature(f"https://{TUNNEL_HOST}/sms", SMS, TOKEN),
    }

    assert post(local_server, form_encode(SMS), headers).status == 200


@pytest.fixture
def unimportable_server():
    """`make run`'s server while replies.py cannot be imported, your own token set."""
    server = WebhookServer(0, "replies.py:3: SyntaxError: invalid syntax")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_while_the_code_cannot_be_imported_a_local_request_is_told_where(unimportable_server):
    response = post(unimportable_server, "Body=hi", {})

    assert response.status == 500
    assert response.read().decode() == (
        "Internal Server Error: the webhook's code cannot be imported: "
        "replies.py:3: SyntaxError: invalid syntax"
    )


def test_while_the_code_cannot_be_imported_a_request_through_a_tunnel_is_told_nothing(
    unimportable_server,
):
    response = post(unimportable_server, "Body=hi", {"Host": TUNNEL_HOST})

    assert (response.status, response.read()) == (500, b"Internal Server Error")


def test_forged_request_through_a_tunnel_is_rejected_with_403(local_server):
    headers = {"Host": TUNNEL_HOST, "X-Twilio-Signature": "forged"}

    response = post(local_server, form_encode(SMS), headers)

    assert response.status == 403
    assert b"<Response" not in response.read()


def test_the_printed_curl_command_is_answered_with_twiml(local_server):
    printed = banner(local_server.server_port, TOKEN)
    curl = shlex.split(re.search(r"^\s*(curl -i \S+ -H .+)$", printed, re.MULTILINE)[1])
    signature_header = curl[curl.index("-H") + 1].split(": ", 1)
    body = curl[curl.index("--data") + 1]

    response = post(local_server, body, dict([signature_header]))

    assert response.status == 200
    assert b"<Message" in response.read()


def test_banner_says_how_to_reach_it_through_a_tunnel():
    printed = banner(3000, TOKEN)

    assert "http://127.0.0.1:3000/sms" in printed
    assert "ngrok http 3000" in printed


def test_banner_gives_the_process_id_that_stops_it():
    assert f"Ctrl-C, or: kill {os.getpid()}" in banner(3000, TOKEN)


def test_banner_gives_the_make_send_command_for_its_port(under_make):
    assert "make send BODY=hours PORT=8080" in banner(8080, TOKEN)


def test_without_make_the_banner_speaks_of_no_make_target(by_hand):
    printed = banner(8080, development_token())

    assert "python -m devtools.send hours --port 8080" in printed
    assert "TWILIO_AUTH_TOKEN=<your auth token> python -m devtools.serve --port 8080" in printed
    assert "make " not in printed


def test_banner_with_the_public_token_says_tunnels_are_rejected_until_the_token_is_set(
    under_make,
):
    printed = banner(3000, development_token())

    assert "through a tunnel they are rejected (403)" in printed
    assert "TWILIO_AUTH_TOKEN=<your auth token> make run" in printed


# One human line per request, beside the JSON lines


def test_each_message_is_one_line_with_the_senders_pseudonym_the_text_and_the_replies(
    local_server, capsys, answer_with
):
    answer_with(lambda message: ["Small: $5", "Large: $8"])

    post_signed(local_server, with_fields(SMS, Body="price"))

    sender = pseudonym(SENDER, local_token())
    assert capsys.readouterr().out == f'{sender} → "price" ⇒ "Small: $5" | "Large: $8"\n'


def test_a_message_without_a_reply_says_so(local_server, capsys, answer_with):
    answer_with(lambda message: None)

    post_signed(local_server)

    assert capsys.readouterr().out.endswith(" ⇒ (no reply)\n")


def test_an_mms_line_counts_its_media(local_server, received, capsys):
    mms = with_fields(SMS, NumMedia="1", MediaUrl0="https://example.com/a.png")

    post_signed(local_server, mms)

    assert '→ "How are you doing?" + 1 media ⇒ "ok"' in capsys.readouterr().out


def test_a_rejected_request_line_gives_the_status_and_reason(local_server, capsys):
    post(local_server, form_encode(SMS), {"X-Twilio-Signature": "forged"}).read()

    assert capsys.readouterr().out.endswith("⇒ 403 Forbidden: invalid Twilio signature\n")


def test_a_line_keeps_a_multiline_text_on_one_line(local_server, received, capsys):
    post_signed(local_server, with_fields(SMS, Body='two\nlines "quoted"'))

    assert '→ "two\\nlines \\"quoted\\"" ⇒' in capsys.readouterr().out


def test_a_request_to_another_route_is_one_line_with_its_status(local_server, capsys):
    connection = http.client.HTTPConnection("127.0.0.1", local_server.server_port, timeout=10)
    connection.request("GET", "/favicon.ico")
    connection.getresponse().read()

    assert capsys.readouterr().out == "GET /favicon.ico ⇒ 404 Not Found\n"


def test_a_reply_whose_text_holds_escape_sequences_is_printed_escaped(
    local_server, capsys, answer_with
):
    answer_with(lambda message: "\x9b2J\u202edone")

    post_signed(local_server)

    assert '⇒ "\\x9b2J\\u202edone"\n' in capsys.readouterr().out


@pytest.mark.parametrize(
    "text", ["plain", "Zoë, 語, emoji 👩‍💻 and ❤️", "tab-free \\ backslash"], ids=str
)
def test_printable_text_is_printed_as_it_is(text):
    assert escaped(text) == text


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("line\nbreak\r", "line\\nbreak\\r"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("tag\U000e0041", "tag\\U000e0041"),
    ],
    ids=["escape", "bell", "line-breaks", "del-and-c1", "bidi", "tag"],
)
def test_characters_a_terminal_acts_on_are_printed_escaped(text, printed):
    assert escaped(text) == printed


# Several requests at once


def test_reply_code_that_thinks_keeps_no_other_request_waiting(local_server, answer_with):
    thinking, go_on = threading.Event(), threading.Event()

    def reply(message):
        if message.body == "think":
            thinking.set()
            go_on.wait(30)
        return message.body

    answer_with(reply)
    slow = threading.Thread(target=post_signed, args=(local_server, with_fields(SMS, Body="think")))
    slow.start()
    try:
        assert thinking.wait(30)

        assert post_signed(local_server, with_fields(SMS, Body="quick")).status == 200
        assert slow.is_alive()
    finally:
        go_on.set()
        slow.join(30)


def test_a_stopped_server_waits_for_the_answers_in_hand(local_server):
    in_hand, answered = threading.Event(), []

    def answer():
        with local_server.answering():
            in_hand.set()
            time.sleep(0.2)
            answered.append(True)

    threading.Thread(target=answer).start()
    assert in_hand.wait(30)

    local_server.wait_for_answers()

    assert answered == [True]


# Tracebacks of reply code, on this machine only


def test_an_exception_in_reply_code_prints_its_traceback_locally(local_server, capsys, answer_with):
    def divide_by_zero(message):
        return str(1 / 0)

    answer_with(divide_by_zero, on_error=print_traceback)

    assert post_signed(local_server).status == 500
    printed = capsys.readouterr().err
    assert printed.startswith("Traceback (most recent call last):")
    assert "in divide_by_zero\n    return str(1 / 0)" in printed
    assert printed.endswith("ZeroDivisionError: division by zero\n")


def test_a_traceback_that_quotes_a_text_is_printed_escaped(local_server, capsys, answer_with):
    def quote_the_text(message):
        raise ValueError(message.body)

    answer_with(quote_the_text, on_error=print_traceback)

    post_signed(local_server, with_fields(SMS, Body="\x1b]0;owned\x07"))

    printed = capsys.readouterr().err
    assert printed.endswith("ValueError: \\x1b]0;owned\\x07\n")
    assert "\x1b" not in printed


def test_the_function_still_logs_only_the_exception_type_and_line(local_server, logs, answer_with):
    def divide_by_zero(message):
        return str(1 / 0)

    answer_with(divide_by_zero, on_error=print_traceback)

    post_signed(local_server)

    error = next(record for record in logs.records if record["message"] == "unexpected error")
    assert error["error"] == "ZeroDivisionError"
    assert "test_local_server.py:" in error["at"]
    assert "Traceback" not in logs.text
    assert "division by zero" not in logs.text


@pytest.mark.slow
def test_make_run_prints_the_traceback_of_reply_code_that_raises(make_run):
    make_run.edit("replies.py", 'os.environ.get("REPLY_MESSAGE", DEFAULT_REPLY_MESSAGE)', "1 / 0")
    make_run.wait_for("replies.py changed")
    mark = make_run.mark()

    with pytest.raises(SendError, match="500 Internal Server Error"):
        send("hi", port=make_run.port)

    make_run.wait_for(r"ZeroDivisionError: division by zero", after=mark)
    assert 'replies.py", line' in make_run.output
    log = make_run.project / ".local" / "webhook.jsonl"  # and the line deployed logs, in its file
    assert eventually(lambda: '"error":"ZeroDivisionError"' in log.read_text())


# Later replies, into the local outbox


def lines_for_people(printed: str) -> list[str]:
    """The lines printed for a person to read, without the metrics' JSON lines among them."""
    return [line for line in printed.splitlines() if not line.startswith("{")]


@pytest.fixture
def later_replies_served(local_server, monkeypatch, tmp_path):
    """`local_server`, running later handlers as `make run` does, into an outbox in the test's
    folder: the server."""
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    use_local_outbox()  # the settings it changes are restored after each test (conftest.py)
    with local_run.using(local_run_here(local_server, kept_clock())):
        yield local_server


@pytest.fixture
def sent(later_replies_served) -> list:
    """The texts `later_replies_served` puts in its outbox, each once it is printed."""
    texts: list = []
    local_run.current().listeners.append(texts.append)
    return texts


def test_a_later_reply_is_printed_after_the_request_line(
    later_replies_served, sent, later_router, capsys
):
    post_signed(later_replies_served)

    assert eventually(lambda: sent)
    sender = pseudonym(SENDER, local_token())
    assert lines_for_people(capsys.readouterr().out) == [
        f'{sender} → "How are you doing?" ⇒ "Working on it"',
        f'sent to {sender} ⇒ "done"',
    ]


def test_make_runs_line_for_a_text_from_a_template_shows_the_template_and_variables():
    template = "HX0123456789abcdef0123456789abcdef"
    outgoing = Outgoing(ACCOUNT_SID, STAFF, TWILIO_NUMBER, "", (), None, template, '{"1": "Ana"}')

    assert sent_line(outgoing) == (
        f'sent to {pseudonym(STAFF, local_token())} ⇒ [template {template} {{"1": "Ana"}}]'
    )


def test_a_later_handler_starts_once_the_answer_is_out(
    later_replies_served, monkeypatch, answer_with
):
    started = threading.Event()
    router = Router()
    router.fallback(later=True)(lambda message: started.set())
    answer_with(router)
    started_before_the_answer_left = []

    def answer_then_look(event, context):
        answer = handler.lambda_handler(event, context)
        started_before_the_answer_left.append(started.wait(0.5))
        return answer

    monkeypatch.setattr(later_replies_served, "function", answer_then_look)

    post_signed(later_replies_served)

    assert eventually(started.is_set)
    assert started_before_the_answer_left == [False]


def test_a_text_sent_first_is_printed_to_the_recipients_pseudonym(
    later_replies_served, sent, texting_staff, capsys
):
    post_signed(later_replies_served)

    assert eventually(lambda: sent)
    printed = capsys.readouterr().out
    assert f'sent to {pseudonym(STAFF, local_token())} ⇒ "A customer asks: How are' in printed
    assert STAFF not in printed


@pytest.mark.slow
def test_make_run_prints_a_later_reply_when_it_is_put_in_the_outbox(make_run):
    assert [message.text for message in send("REPORT", port=make_run.port)] == [
        "Working on it: your report follows in a moment."
    ]

    make_run.wait_for(r'^sent to \S+ ⇒ "Your report: 1 text\(s\) from you')


@pytest.mark.slow
def test_make_run_keeps_later_texts_in_local_outbox_jsonl(make_run):
    send("REPORT", port=make_run.port)
    make_run.wait_for(r"^sent to ")

    [line] = (make_run.project / ".local" / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line)["body"].startswith("Your report: ")


@pytest.mark.slow
def test_a_restart_says_it_stopped_a_later_reply_still_running(make_run):
    replies = make_run.project / "replies.py"
    code = replies.read_text().replace("import os\n", "import os\nimport threading\n", 1)
    replies.write_text(
        code.replace("    texts = [", "    threading.Event().wait()\n    texts = [", 1)
    )
    make_run.wait_for("replies.py changed")
    send("REPORT", port=make_run.port)
    mark = make_run.mark()

    make_run.edit("replies.py", "I'm busy questing right now!", "Back soon!")

    make_run.wait_for("^1 later reply still running, stopped with the server: nothing sent", mark)


# Timers, on real time and kept across restarts


@pytest.fixture
def timers_served(later_replies_served, answer_with):
    """`later_replies_served` answering with `tests/support/timer_replies.py`'s router, its
    timers kept beside its outbox and fired as they fall due, as `make run` does: their clock.
    The test moves it on rather than wait an hour."""
    answer_with(timer_replies.router)
    clock = local_run.current().clock
    assert isinstance(clock, KeptClock)
    with firing(clock, fire_due_timers):
        yield clock


def test_a_timer_set_is_printed_before_the_request_line(
    later_replies_served, timers_served, capsys
):
    post_signed(later_replies_served, with_fields(SMS, Body="SURVEY"))

    sender = pseudonym(SENDER, local_token())
    assert lines_for_people(capsys.readouterr().out) == [
        f"timer set: nudge for {sender} in 1h",
        f'{sender} → "SURVEY" ⇒ "How did you hear about us?"',
    ]


def printed_as_timers_go_off(server, clock, sent, capsys, text: str, **moved: float) -> list[str]:
    """What `make run` prints once `text` is answered and the clock moved on (`hours=1`): the
    lines until a text has been sent."""
    post_signed(server, with_fields(SMS, Body=text))
    capsys.readouterr()

    clock.advance(**moved)

    assert eventually(lambda: sent)
    return lines_for_people(capsys.readouterr().out)


def test_a_timer_due_goes_off_a_line_saying_so_then_its_text_printed(
    later_replies_served, timers_served, sent, capsys
):
    printed = printed_as_timers_go_off(
        later_replies_served, timers_served, sent, capsys, "SURVEY", hours=1
    )

    sender = pseudonym(SENDER, local_token())
    assert printed == [
        f"timer went off: nudge for {sender}",
        f"timer set: close for {sender} in 1d",
        f'sent to {sender} ⇒ "Still there?"',
    ]


def test_a_reminder_to_another_number_goes_off_to_its_pseudonym(
    later_replies_served, timers_served, sent, capsys
):
    printed = printed_as_timers_go_off(
        later_replies_served, timers_served, sent, capsys, "REMIND", minutes=30
    )

    staff = pseudonym(timer_replies.STAFF, local_token())
    assert printed == [
        f"timer went off: reminder for {staff}",
        f'sent to {staff} ⇒ "Call back soon"',
    ]


def test_the_timers_a_server_set_wait_for_the_server_after_it(later_replies_served, timers_served):
    post_signed(later_replies_served, with_fields(SMS, Body="REMIND"))

    assert kept_clock().by_name() == timers_served.by_name() != {}


def test_make_send_shows_the_timers_its_text_set(later_replies_served, timers_served, capsys):
    send_main(["--port", str(later_replies_served.server_port), "SURVEY"])

    printed = capsys.readouterr().out.splitlines()
    assert printed[-2:] == [
        "How did you hear about us?",
        f"(timer set: nudge for {pseudonym(SENDER, local_token())} in 1h)",
    ]


def test_make_send_shows_no_timer_for_a_text_that_set_none(
    later_replies_served, timers_served, capsys
):
    post_signed(later_replies_served, with_fields(SMS, Body="SURVEY"))
    capsys.readouterr()

    send_main(["--port", str(later_replies_served.server_port), "a friend"])

    assert capsys.readouterr().out.splitlines()[-1] == "Thanks!"


@pytest.fixture
def timers_run(tmp_path):
    """`make run` on a copy of the project whose replies.py is `tests/support/timer_replies.py`."""
    project = copy_of_project(tmp_path)
    shutil.copy(PROJECT / "tests" / "support" / "timer_replies.py", project / "replies.py")
    server = RunningServer(project)
    yield server
    server.close()


@pytest.mark.slow
def test_make_run_keeps_its_timers_across_a_restart(timers_run):
    send("SURVEY", port=timers_run.port)
    timers_run.wait_for("^timer set: nudge for ")
    mark = timers_run.mark()

    timers_run.edit("replies.py", "Still there?", "Still with us?")

    timers_run.wait_for(r"^timers kept from before: 1, the soonest nudge for \S+ in 1h$", mark)


@pytest.mark.slow
def test_make_run_fires_a_timer_that_fell_due_while_it_restarted(timers_run):
    send("REMIND", port=timers_run.port)
    timers_run.wait_for("^timer set: reminder for .+ in 30m")
    timers = timers_run.project / ".local" / "timers.json"
    kept = json.loads(timers.read_text())
    for job in kept.values():
        job["queued_at"] -= 30 * 60  # half an hour went by
    timers.write_text(json.dumps(kept))
    mark = timers_run.mark()

    timers_run.edit("replies.py", "Noted", "Noted!")

    timers_run.wait_for("^timer went off: reminder for ", mark)
    timers_run.wait_for('^sent to \\S+ ⇒ "Call back soon"', mark)


@pytest.fixture
def queue_in_the_shell(monkeypatch):
    """A shell that names the deployed queue, whose AWS endpoint refuses every connection.
    Request it before `make_run`, which starts with the shell's settings."""
    monkeypatch.setenv("LATER_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/LaterReplies")
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")


@pytest.mark.slow
def test_make_run_runs_later_handlers_here_whatever_queue_the_shell_names(
    queue_in_the_shell, make_run
):
    send("REPORT", port=make_run.port)

    make_run.wait_for(r'^sent to \S+ ⇒ "Your report: ')


# The command line


def test_a_port_in_use_is_one_line_naming_another_port(under_make):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        result = serve("--port", str(port))

    assert result.returncode == 1
    assert result.stderr == f"port {port} is in use: make run PORT={port + 1}\n"
    assert result.stdout == ""


def test_without_make_a_port_in_use_names_the_option(by_hand):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        result = serve("--port", str(port))

    assert result.stderr == f"port {port} is in use: python -m devtools.serve --port {port + 1}\n"


def test_help_is_printed_instead_of_starting_the_server():
    result = serve("--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m devtools.serve")
    assert "listening" not in result.stdout


def test_a_port_that_is_not_a_number_is_a_usage_error():
    result = serve("--port", "http")

    assert result.returncode == 2
    assert "PORT must be a number from 0 to 65535, not 'http'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:3000", True),
        ("127.9.9.9", True),
        ("localhost:3000", True),
        ("LocalHost", True),
        ("[::1]:3000", True),
        ("abcd-1234.ngrok-free.app", False),
        ("127.0.0.1.nip.io", False),
        ("localhost.example.com:3000", False),
        ("10.0.0.1:3000", False),
        ("[::1", False),
        ("", False),
    ],
)
def test_loopback_hosts_are_localhost_127_0_0_0_8_and_ipv6_loopback(host, loopback):
    assert is_loopback(host) is loopback


# The function's JSON log lines


@pytest.mark.slow
def test_the_json_log_lines_go_to_a_file_each_request_with_its_own_request_id(make_run):
    send("HOURS", port=make_run.port)
    mark = make_run.mark()
    send("HOURS", port=make_run.port)
    make_run.wait_for(r'→ "HOURS" ⇒ ', after=mark)

    log = make_run.project / ".local" / "webhook.jsonl"
    assert eventually(lambda: len(log.read_text().splitlines()) >= 2)
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert len({line["function_request_id"] for line in logged}) == len(logged)
    assert not any(line.startswith('{"level"') for line in make_run.output.splitlines())
    assert "Its JSON log lines go to .local/webhook.jsonl" in make_run.output


@pytest.mark.slow
def test_log_json_prints_the_json_log_lines_among_the_others(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_JSON", "1")
    server = RunningServer(copy_of_project(tmp_path))
    try:
        send("HOURS", port=server.port)

        server.wait_for(r'^\{"level":"INFO".*"function_request_id"')
    finally:
        server.close()
    assert not (tmp_path / ".local" / "webhook.jsonl").exists()


def test_a_reply_the_loop_guard_held_back_says_so(local_server, received, capsys):
    clock = local_run.installed().clock  # at the start of an hour: the four texts fall in one
    clock.move_to((clock.now() // 3600 + 1) * 3600 + 1)
    for number in range(4):
        post_signed(local_server, with_fields(SMS, MessageSid=f"SM{number:032x}"))

    last = capsys.readouterr().out.splitlines()[-1]
    assert last.endswith(
        "⇒ (no reply: the loop guard held it back, more than 3 identical texts "
        "this clock hour; /reset in make chat forgets)"
    )
