"""`make chat`: a conversation with the bot in the terminal, driven here through a pipe."""

import contextlib
import io
import json
import logging
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.chat import PROMPT, Chat, log_to_stderr
from devtools.local_token import local_token
from devtools.paths import PROJECT
from sms_webhook.sending import Outgoing
from sms_webhook.telemetry import pseudonym
from tests.support.later_replies import STAFF
from tests.support.local_project import WAIT_SECONDS, copy_of_project, without_make
from tests.support.twilio_requests import SENDER


def run_chat(
    *arguments: str | Path, lines: tuple[str, ...] = (), project: Path = PROJECT
) -> subprocess.CompletedProcess:
    """`python -m devtools.chat` with these arguments in `project`, `lines` piped in as
    `printf ... | make chat` does, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "devtools.chat", *arguments],
        input="".join(f"{line}\n" for line in lines),
        cwd=project,
        env=without_make(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def in_the_tests_folder(tmp_path: Path) -> tuple[str | Path, ...]:
    """The arguments that keep a chat's conversations and outbox in the test's folder."""
    return ("--conversations", tmp_path / "c.json", "--outbox", tmp_path / "outbox.jsonl")


def piped(tmp_path: Path, lines: tuple[str, ...], project: Path = PROJECT) -> list[str]:
    """Pipe lines into a chat in `project` that keeps its conversations in the test's folder: its
    stdout but the lines typed (`you> ...`, each checked to be there, in order), once it has
    ended well and printed nothing else but metrics (a later reply sent counts as one)."""
    finished = run_chat(*in_the_tests_folder(tmp_path), lines=lines, project=project)
    assert finished.returncode == 0
    assert [line for line in finished.stderr.splitlines() if '{"_aws":' not in line] == []
    shown = finished.stdout.splitlines()
    typed = [line.removeprefix(PROMPT) for line in shown if line.startswith(PROMPT)]
    assert typed == list(lines[: len(typed)])  # up to a /quit
    return [line for line in shown if not line.startswith(PROMPT)]


@pytest.fixture
def chat(tmp_path):
    """`piped` into a chat with the project's own replies."""
    return lambda *lines: piped(tmp_path, lines)


def project_replying_with(tmp_path: Path, replies: str) -> Path:
    """A copy of the project whose replies.py is `tests/support/<replies>`."""
    project = tmp_path / "project"
    project.mkdir()
    copy_of_project(project)
    shutil.copy(Path(__file__).parent / "support" / replies, project / "replies.py")
    return project


@pytest.fixture
def later_project(tmp_path, monkeypatch) -> Path:
    """A copy of the project whose replies.py is `tests/support/later_replies.py`, its gate the file
    `gate` in the test's folder."""
    monkeypatch.setenv("GATE", str(tmp_path / "gate"))
    return project_replying_with(tmp_path, "later_replies.py")


@pytest.fixture
def later_chat(later_project, tmp_path):
    """Pipe lines into a chat on `later_project` which waits 10 s at most for later replies: how
    it ended."""

    def run(*lines: str, wait: str = "10") -> subprocess.CompletedProcess:
        arguments = (*in_the_tests_folder(tmp_path), "--wait", wait)
        return run_chat(*arguments, lines=lines, project=later_project)

    return run


def read_until(terminal: int, expected: str) -> str:
    """What the terminal shows until `expected` has been shown; the test fails if it never is."""
    shown = ""
    deadline = time.monotonic() + WAIT_SECONDS
    while expected not in shown:
        left = deadline - time.monotonic()
        assert left > 0, f"never shown: {expected!r}, in {shown!r}"
        if select.select([terminal], [], [], left)[0]:
            shown += os.read(terminal, 4096).decode()
    return shown


def test_a_piped_text_prints_the_replies_and_ends(chat):
    assert chat("HOURS") == ["bot> We're open 9am to 5pm, Monday to Friday."]


def test_a_reply_of_more_than_one_plain_segment_says_what_it_costs(chat, monkeypatch):
    monkeypatch.setenv("REPLY_MESSAGE", "こんにちは" * 20)

    assert chat("hi") == ["bot> " + "こんにちは" * 20, "bot>   [2 SMS segments, UCS-2]"]


def test_a_text_sent_first_says_what_it_costs_too(tmp_path):
    output = io.StringIO()
    session = Chat(output, tmp_path / "c.json", tmp_path / "outbox.jsonl")

    session.sent(Outgoing("AC" + "0" * 32, STAFF, "+15005550006", "x" * 161, (), None))

    whom = f"bot to {pseudonym(STAFF, local_token())}>"
    assert output.getvalue() == f"{whom} {'x' * 161}\n{whom}   [2 SMS segments, GSM-7]\n"


def test_a_text_from_a_template_prints_its_template_and_variables_in_place_of_a_body(tmp_path):
    output = io.StringIO()
    session = Chat(output, tmp_path / "c.json", tmp_path / "outbox.jsonl")
    template = "HX0123456789abcdef0123456789abcdef"

    session.sent(
        Outgoing("AC" + "0" * 32, STAFF, "+15005550006", "", (), None, template, '{"1": "Ana"}')
    )

    whom = f"bot to {pseudonym(STAFF, local_token())}>"
    assert output.getvalue() == f'{whom} [template {template} {{"1": "Ana"}}]\n'


def test_the_conversation_carries_from_one_line_to_the_next(chat):
    replies = chat("SURVEY", "a friend", "5")

    assert replies[-1] == "bot> Thanks! You heard of us through 'a friend' and gave us 5."


def test_a_conversation_is_kept_across_chats(chat):
    chat("SURVEY")

    assert chat("a friend") == ["bot> 2/2: from 1 to 5, how likely are you to recommend us?"]


def test_media_attach_to_the_next_text(chat):
    replies = chat("/media https://example.com/cat.jpg", "look")

    assert replies[-1] == "bot> Got your 1 attachment(s): image/jpeg."


def test_another_sender_has_a_conversation_of_their_own(chat):
    replies = chat("SURVEY", "/from +447700900123", "a friend")

    assert replies[-1] == "bot> I'm busy questing right now!"


def test_reset_forgets_the_conversation(chat):
    replies = chat("SURVEY", "/reset", "a friend")

    assert replies[-1] == "bot> I'm busy questing right now!"


def test_a_later_handlers_acknowledgement_prints_then_its_reply(chat):
    assert chat("REPORT") == [
        "bot> Working on it: your report follows in a moment.",
        "bot> Your report: 1 text(s) from you in this conversation so far.",
    ]


def test_later_replies_are_kept_in_the_outbox_file(chat, tmp_path):
    chat("REPORT")

    [line] = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line)["body"].startswith("Your report: ")


def test_the_next_text_is_answered_while_a_later_reply_still_runs(later_chat):
    finished = later_chat("GATED", "OPEN")  # GATED's handler finishes once OPEN is answered

    shown = finished.stdout.splitlines()
    assert shown[:3] == ["you> GATED", "bot> Working on it", "you> OPEN"]
    assert sorted(shown[3:]) == ["bot> Done at last", "bot> Opened"]


def test_at_the_end_of_input_the_chat_waits_for_the_later_replies(later_chat):
    finished = later_chat("SLOW")

    assert finished.stdout.splitlines() == ["you> SLOW", "bot> Working on it", "bot> Done slowly"]
    assert finished.returncode == 0


def test_a_later_reply_that_never_finishes_is_one_line_and_the_chat_ends(later_chat):
    finished = later_chat("GATED", wait="0.2")

    assert finished.returncode == 1
    assert finished.stderr.splitlines()[-1] == (
        "1 later reply is still running after 0.2 s: the chat ends without it "
        "(python -m devtools.chat --wait SECONDS waits longer)"
    )
    assert finished.stdout == "you> GATED\nbot> Working on it\n"


def test_make_chat_wait_is_how_long_it_waits_for_later_replies_and_is_named_so(later_project):
    make = [shutil.which("make"), "--no-print-directory", "-f", PROJECT / "Makefile"]
    finished = subprocess.run(
        [*make, "-o", ".venv/.runtime", f"BIN={Path(sys.executable).parent}", "chat", "WAIT=0.2"],
        cwd=later_project,
        input="GATED\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=without_make(os.environ),
    )

    assert finished.returncode != 0
    assert (
        "1 later reply is still running after 0.2 s: the chat ends without it "
        "(make chat WAIT=SECONDS waits longer)"
    ) in finished.stderr.splitlines()


def test_a_text_not_answered_200_is_said_and_the_chat_ends_with_exit_status_1(later_chat):
    finished = later_chat("BROKEN", "OPEN")

    assert finished.stdout.splitlines()[:2] == [
        "you> BROKEN",
        "bot! the webhook answered 500: Internal Server Error",
    ]
    assert finished.stdout.splitlines()[-1] == "bot> Opened"  # the chat went on
    assert finished.returncode == 1
    assert finished.stderr.splitlines()[-1] == (
        "the webhook did not answer 200 (it answered 500): see bot! above"
    )


def test_in_a_terminal_up_recalls_the_last_text_and_an_empty_line_sends_nothing(
    later_project, tmp_path
):
    with chat_in_a_terminal(later_project, tmp_path) as terminal:
        read_until(terminal, "you> ")
        os.write(terminal, b"hello\r")
        read_until(terminal, "bot> You said: hello\r\nyou> ")
        os.write(terminal, b"\r")
        read_until(terminal, "you> ")
        os.write(terminal, b"\x1b[A\r")  # Up, Enter

        assert "bot> You said: hello\r\n" in read_until(terminal, "bot> You said: hello\r\nyou> ")
        ended(terminal)
    assert (later_project / ".local" / "chat_history").read_text().splitlines()[-1] == "hello"


def test_a_text_sent_first_prints_with_whom_it_is_to(later_chat):
    finished = later_chat("AGENT")

    assert finished.stdout.splitlines() == [
        "you> AGENT",
        "bot> An agent will text you back shortly.",
        f"bot to {pseudonym(STAFF, local_token())}> A customer asks: AGENT",
    ]


@contextlib.contextmanager
def chat_in_a_terminal(project: Path, tmp_path: Path) -> Iterator[int]:
    """A chat on `project` in a terminal (a pseudo-terminal), waiting for texts: the terminal's
    side, to type on and read. The test ends the chat (`ended`), which must end well."""
    terminal, chat_side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.chat", *in_the_tests_folder(tmp_path), "--wait", "10"],
        cwd=project,
        stdin=chat_side,
        stdout=chat_side,
        stderr=chat_side,
        start_new_session=True,
    )
    os.close(chat_side)
    try:
        yield terminal
        assert process.wait(WAIT_SECONDS) == 0
    finally:
        process.kill()
        os.close(terminal)


@pytest.fixture
def terminal(later_project, tmp_path):
    """`chat_in_a_terminal` on `later_project`."""
    with chat_in_a_terminal(later_project, tmp_path) as terminal:
        yield terminal


def ended(terminal: int) -> str:
    """Ctrl-D: what the terminal shows until the chat has ended."""
    os.write(terminal, b"\x04")
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the chat's side is closed
        while select.select([terminal], [], [], WAIT_SECONDS)[0] and (
            read := os.read(terminal, 4096)
        ):
            shown += read
    return shown.decode()


def test_in_a_terminal_a_later_reply_prints_below_the_prompt_then_prompts_again(terminal, tmp_path):
    os.write(terminal, b"GATED\n")
    read_until(terminal, "bot> Working on it\r\nyou> ")

    (tmp_path / "gate").touch()

    assert read_until(terminal, "you> ").startswith("\r\nbot> Done at last\r\nyou> ")
    ended(terminal)


def test_in_a_terminal_no_metric_line_comes_between_a_later_reply_and_the_prompt(terminal):
    os.write(terminal, b"AGENT\n")
    read_until(terminal, "A customer asks: AGENT\r\nyou> ")

    assert '"_aws"' not in ended(terminal)


class Writes(io.StringIO):
    """A terminal that notes each write made to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_in_a_terminal_a_later_reply_and_its_new_prompt_are_one_write(tmp_path):
    terminal = Writes()
    session = Chat(terminal, tmp_path / "c.json", tmp_path / "outbox.jsonl", interactive=True)

    session.sent(Outgoing("AC" + "0" * 32, STAFF, "+15005550006", "Ada asks", (), None))

    assert terminal.writes == [f"\nbot to {pseudonym(STAFF, local_token())}> Ada asks\nyou> "]


# Time passing: /wait and /timers


@pytest.fixture
def timer_chat(tmp_path):
    """`piped` into a chat whose replies.py is `tests/support/timer_replies.py`: SURVEY's question
    waits an hour for its answer, REMIND reminds staff in 30 minutes and tomorrow."""
    project = project_replying_with(tmp_path, "timer_replies.py")
    return lambda *lines: piped(tmp_path, lines, project)


def test_wait_lets_an_unanswered_questions_deadline_go_off_and_prints_its_text(timer_chat):
    assert timer_chat("SURVEY", "/wait 1h") == [
        "bot> How did you hear about us?",
        "(waiting 1h)",
        "bot> Still there?",
    ]


def test_the_shipped_survey_nudges_after_an_hour_of_waiting(tmp_path):
    assert piped(tmp_path, ("SURVEY", "/wait 1h")) == [
        "bot> Two quick questions. 1/2: how did you hear about us?",
        "(waiting 1h)",
        "bot> Still there? Just reply to carry on with the survey; it closes later today.",
    ]


def test_wait_short_of_every_timer_says_nothing_was_sent(timer_chat):
    assert timer_chat("SURVEY", "/wait 59m")[1:] == ["(waiting 59m)", "(nothing was sent)"]


def test_waits_add_up(timer_chat):
    assert timer_chat("SURVEY", "/wait 30m", "/wait 1800s")[-1] == "bot> Still there?"


def test_wait_takes_a_time_in_parts(timer_chat):
    assert timer_chat("SURVEY", "/wait 1h30m")[1:] == ["(waiting 1h30m)", "bot> Still there?"]


def test_wait_with_what_is_no_time_says_what_it_takes_and_lets_no_time_pass(timer_chat):
    replies = timer_chat("SURVEY", "/wait 2 hours", "/wait", "/wait 1h")

    assert replies[1:3] == [
        "(/wait takes a time: 90s, 10m, 2h, 1d, or parts together: 1h30m)",
        "(/wait takes a time: 90s, 10m, 2h, 1d, or parts together: 1h30m)",
    ]
    assert replies[3:] == ["(waiting 1h)", "bot> Still there?"]


def test_a_reminder_to_another_number_prints_with_whom_it_is_to(timer_chat):
    replies = timer_chat("REMIND", "/wait 30m")

    assert replies[-1] == f"bot to {pseudonym(STAFF, local_token())}> Call back soon"


def test_timers_due_in_one_wait_print_the_earliest_first(timer_chat):
    replies = timer_chat("REMIND", "SURVEY", "/wait 1d")

    assert [reply.split("> ")[1] for reply in replies[3:]] == [
        "Call back soon",
        "Still there?",
        "Call back tomorrow",
    ]


def test_timers_lists_each_timer_waiting_and_when_it_goes_off_the_soonest_first(timer_chat):
    staff, sender = pseudonym(STAFF, local_token()), pseudonym(SENDER, local_token())

    assert timer_chat("REMIND", "SURVEY", "/wait 10m", "/timers")[-4:] == [
        "(timers waiting, the soonest first)",
        f"  reminder for {staff} in 20m",
        f"  nudge for {sender} in 50m",
        f"  reminder for {staff} in 23h50m",
    ]


def test_timers_says_so_when_none_waits(timer_chat):
    assert timer_chat("/timers") == ["(no timer waits)"]


def test_in_a_terminal_a_text_sent_at_wait_prints_as_a_reply_then_one_prompt(tmp_path):
    project = project_replying_with(tmp_path, "timer_replies.py")
    with chat_in_a_terminal(project, tmp_path) as terminal:
        os.write(terminal, b"SURVEY\n")
        read_until(terminal, "bot> How did you hear about us?\r\nyou> ")

        os.write(terminal, b"/wait 1h\n")

        assert read_until(terminal, "you> ") == (
            "/wait 1h\r\n(waiting 1h)\r\nbot> Still there?\r\nyou> "
        )
        ended(terminal)


def test_quit_ends_the_chat_before_the_next_line(chat):
    assert chat("/quit", "HOURS") == []


def test_from_and_channel_say_who_is_texting_now(chat):
    assert chat("/from +447700900123", "/channel whatsapp") == [
        "(now texting as +447700900123)",
        "(now texting as whatsapp:+447700900123)",
    ]


def test_help_lists_every_command_with_a_line_of_help(chat):
    listed = chat("/help")

    assert listed[0] == "commands:"
    assert [line.split()[0] for line in listed[1:]] == [
        "/media",
        "/from",
        "/channel",
        "/reset",
        "/wait",
        "/timers",
        "/help",
        "/quit",
    ]
    assert (
        "  /reset              forget the conversation with this sender, a STOP it sent, and its "
        "texts counted" in listed
    )


def test_an_unknown_command_says_so_then_lists_the_commands(chat):
    said, *listed = chat("/what")

    assert said == "unknown command /what; commands:"
    assert listed == chat("/help")[1:]


def test_piped_texts_print_as_typed_before_their_replies(tmp_path):
    finished = run_chat(*in_the_tests_folder(tmp_path), lines=("HOURS", "/from +14155550002"))

    assert finished.stdout.splitlines() == [
        "you> HOURS",
        "bot> We're open 9am to 5pm, Monday to Friday.",
        "you> /from +14155550002",
        "(now texting as +14155550002)",
    ]


def test_an_empty_line_sends_nothing(chat):
    assert chat("", "HOURS", "") == ["bot> We're open 9am to 5pm, Monday to Friday."]


def test_the_command_line_help_lists_the_commands():
    finished = run_chat("--help")

    assert finished.returncode == 0
    assert "  /media URL [TYPE]   attach a picture or file to the next text" in finished.stdout


def test_the_functions_log_lines_go_to_stderr_and_stdout_has_only_the_replies(tmp_path):
    unusable = tmp_path / "a file" / "conversations.json"  # a conversation store that fails
    unusable.parent.write_text("")

    finished = run_chat("--conversations", unusable, "--outbox", tmp_path / "o", lines=("HOURS",))

    assert finished.stdout == "you> HOURS\nbot> We're open 9am to 5pm, Monday to Friday.\n"
    assert '"message":"conversation store unavailable"' in finished.stderr
    assert '"ConversationStoreFailures"' in finished.stderr


def test_a_log_handler_writing_to_stdout_writes_to_stderr_instead():
    handler = logging.StreamHandler(sys.stdout)

    log_to_stderr(handler)

    assert handler.stream is sys.stderr


@pytest.mark.parametrize(
    "handler",
    [logging.StreamHandler(io.StringIO()), logging.NullHandler()],
    ids=["to a file", "no stream"],
)
def test_a_log_handler_that_does_not_write_to_stdout_is_left_as_it_is(handler):
    stream = getattr(handler, "stream", None)

    log_to_stderr(handler)

    assert getattr(handler, "stream", None) is stream


def test_a_syntax_error_in_replies_is_one_line_saying_where_and_the_chat_ends(tmp_path):
    project = copy_of_project(tmp_path)
    replies = project / "replies.py"
    text = replies.read_text()
    replies.write_text(text.replace("import os\n", "import os(\n", 1))
    line = text.splitlines().index("import os") + 1

    finished = run_chat(*in_the_tests_folder(tmp_path), lines=("HOURS",), project=project)

    assert finished.returncode == 1
    assert finished.stderr == f"replies.py:{line}: SyntaxError: invalid syntax\n"
    assert finished.stdout == ""


def test_a_reply_to_a_sender_who_sent_stop_is_said_to_be_blocked(tmp_path):
    finished = run_chat(*in_the_tests_folder(tmp_path), lines=("STOP", "HOURS"))

    assert finished.stdout.splitlines()[-1] == (
        "bot> (no reply: you opted out (STOP); replies are blocked until START)"
    )


def test_a_reply_the_loop_guard_suppressed_is_said_with_the_rule(tmp_path):
    output = io.StringIO()
    session = Chat(output, tmp_path / "c.json", tmp_path / "outbox.jsonl")
    clock = session.local_run.clock
    clock.move_to((clock.now() // 3600 + 1) * 3600 + 1)  # four texts within one clock hour

    with session.phone.settings(), session.local_run.listening(session.sent):
        for _ in range(4):
            session.take("HOURS")

    assert output.getvalue().splitlines()[-1] == (
        "bot> (no reply: the loop guard suppressed it, more than 3 identical texts this clock "
        "hour; /wait or /reset)"
    )
