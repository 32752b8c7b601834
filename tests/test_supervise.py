"""`make run` restarts itself when the code changes and stops whole: real processes and socket."""

import contextlib
import os
import shutil
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.send import SendError, send
from devtools.supervise import STOP_SIGNALS, changed, stamps, supervise
from tests.support.local_project import (
    PROJECT,
    RunningServer,
    copy_of_project,
    eventually,
    group_is_gone,
    nothing_listens,
)

NEW_REPLY = ('DEFAULT_REPLY_MESSAGE = "', 'DEFAULT_REPLY_MESSAGE = "Edited while running. ')
BROKEN = ("import os\n", "import os(\n")
BROKEN_LINE = PROJECT.joinpath("replies.py").read_text().splitlines().index("import os") + 1
SYNTAX_ERROR = rf"^replies\.py:{BROKEN_LINE}: SyntaxError: invalid syntax$"
"""What `make run` prints of replies.py once BROKEN: one line."""
SLOW = (
    '    return os.environ.get("REPLY_MESSAGE", DEFAULT_REPLY_MESSAGE)',
    '    print("answering slowly", flush=True)\n'
    "    __import__('time').sleep(1)\n"
    '    return os.environ.get("REPLY_MESSAGE", DEFAULT_REPLY_MESSAGE)',
)


def test_a_written_file_is_changed(tmp_path):
    path = tmp_path / "replies.py"
    path.write_text("a = 1\n")
    before = stamps([path])
    path.write_text("a = 22\n")

    assert changed(before, stamps([path])) == [path]


def test_a_file_created_or_removed_is_changed(tmp_path):
    kept, removed, created = (tmp_path / name for name in ("kept.py", "removed.py", "new.py"))
    kept.write_text("")
    removed.write_text("")
    before = stamps([kept, removed, created])
    removed.unlink()
    created.write_text("")

    assert changed(before, stamps([kept, removed, created])) == [created, removed]


def test_untouched_files_are_not_changed(tmp_path):
    path = tmp_path / "replies.py"
    path.write_text("a = 1\n")

    assert changed(stamps([path]), stamps([path])) == []


@pytest.mark.slow
def test_an_edit_of_replies_is_answered_without_restarting_by_hand(make_run):
    assert send("hello", port=make_run.port)[0].text == "I'm busy questing right now!"

    make_run.edit("replies.py", *NEW_REPLY)

    make_run.wait_for(r"^replies\.py changed: restarting the server$")
    reply = send("hello", port=make_run.port)[0].text
    assert reply == "Edited while running. I'm busy questing right now!"


@pytest.mark.slow
def test_a_change_in_sms_webhook_restarts_the_server(make_run):
    os.utime(make_run.project / "sms_webhook" / "twiml.py")

    make_run.wait_for(r"^sms_webhook/twiml\.py changed: restarting the server$")


@pytest.fixture
def make_run_on_broken_code(tmp_path):
    """`make run` started on a copy of the project whose replies.py has a syntax error."""
    project = copy_of_project(tmp_path)
    replies = project / "replies.py"
    replies.write_text(replies.read_text().replace(*BROKEN, 1))
    server = RunningServer(project)
    yield server
    server.close()


@pytest.mark.slow
def test_a_syntax_error_is_one_line_and_the_next_save_starts_the_server_again(make_run):
    make_run.edit("replies.py", *BROKEN)

    make_run.wait_for(SYNTAX_ERROR)
    make_run.wait_for(r"^the server answers 500 until you save a fix$")
    assert make_run.process.poll() is None
    assert "Traceback" not in make_run.output
    mark = make_run.mark()
    make_run.edit("replies.py", *reversed(BROKEN))
    make_run.wait_for(r"^replies\.py changed", after=mark)
    assert send("hello", port=make_run.port)[0].text == "I'm busy questing right now!"


def test_started_on_a_syntax_error_it_says_where_in_one_line_and_serves_once_fixed(
    make_run_on_broken_code,
):
    make_run = make_run_on_broken_code
    make_run.wait_for(SYNTAX_ERROR)
    make_run.wait_for(r"^the server answers 500 until you save a fix$")
    assert "Traceback" not in make_run.output

    make_run.edit("replies.py", *reversed(BROKEN))

    make_run.wait_for(r"^replies\.py changed: restarting the server$")
    assert send("hello", port=make_run.port)[0].text == "I'm busy questing right now!"


def test_a_text_sent_while_the_code_is_broken_is_told_at_once_where(make_run_on_broken_code):
    make_run = make_run_on_broken_code
    make_run.wait_for(r"^the server answers 500 until you save a fix$")

    with pytest.raises(SendError) as refused:  # not a wait of TIMEOUT_SECONDS for no answer
        send("hello", port=make_run.port)

    assert str(refused.value).splitlines()[0] == (
        "500 Internal Server Error: the webhook's code cannot be imported: "
        f"replies.py:{BROKEN_LINE}: SyntaxError: invalid syntax"
    )
    make_run.wait_for(r"⇒ 500 Internal Server Error: the webhook's code cannot be imported")


@pytest.mark.slow
def test_a_text_in_hand_when_the_code_changes_is_answered_before_the_restart(make_run):
    make_run.edit("replies.py", *SLOW)
    make_run.wait_for(r"^replies\.py changed")
    with ThreadPoolExecutor(1) as executor:
        answer = executor.submit(send, "hello", port=make_run.port)
        make_run.wait_for(r"^answering slowly$")

        mark = make_run.mark()
        os.utime(make_run.project / "replies.py", ns=(0, 0))
        make_run.wait_for(r"^replies\.py changed", after=mark)

        assert answer.result()[0].text == "I'm busy questing right now!"


@pytest.mark.slow
def test_ctrl_c_stops_the_server_and_nothing_is_left(make_run):
    send("hello", port=make_run.port)  # the server process is up

    os.killpg(make_run.process.pid, signal.SIGINT)  # what Ctrl-C does: the terminal's group

    assert make_run.process.wait(30) == 0
    assert group_is_gone(make_run.process.pid)
    assert nothing_listens(make_run.port)
    make_run.wait_for(rf"^stopped: nothing listens on http://127\.0\.0\.1:{make_run.port}/sms")
    assert "Traceback" not in make_run.output


@contextlib.contextmanager
def ctrl_c_ignored():
    """Processes started meanwhile ignore Ctrl-C, as a shell without job control starts the jobs
    it puts in the background (`make run &` in a script)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_ctrl_c_stops_a_server_started_with_ctrl_c_ignored(tmp_path):
    with ctrl_c_ignored():
        server = RunningServer(copy_of_project(tmp_path))
    try:
        os.killpg(server.process.pid, signal.SIGINT)

        assert server.process.wait(30) == 0
    finally:
        server.close()


@pytest.fixture
def stop_signals_restored():
    """`supervise` sets how the process it runs in takes the stop signals: put back as they were."""
    before = {name: signal.getsignal(name) for name in STOP_SIGNALS}
    yield
    for name, handler in before.items():
        signal.signal(name, handler)


def test_ctrl_c_while_the_banner_is_printed_stops_the_server(tmp_path, stop_signals_restored):
    servers: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        servers.append(subprocess.Popen([shutil.which("sleep"), "60"], stdin=subprocess.PIPE))
        return servers[-1]

    def banner_interrupted() -> None:
        raise KeyboardInterrupt  # what Ctrl-C raises, as the banner is printed

    supervise(start, list, tmp_path, started=banner_interrupted)  # returns: stopped as asked

    assert servers[0].poll() is not None


@pytest.mark.slow
def test_killing_the_printed_process_id_stops_the_server_and_nothing_is_left(make_run):
    send("hello", port=make_run.port)

    os.kill(make_run.printed_pid, signal.SIGTERM)

    assert make_run.process.wait(30) == 0
    assert group_is_gone(make_run.process.pid)
    assert nothing_listens(make_run.port)


@pytest.mark.slow
def test_when_the_supervisor_is_killed_outright_the_server_stops_too(make_run):
    send("hello", port=make_run.port)

    os.kill(make_run.printed_pid, signal.SIGKILL)

    make_run.process.wait(30)
    assert eventually(lambda: nothing_listens(make_run.port))
