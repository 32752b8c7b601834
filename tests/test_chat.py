"""`make chat`: a conversation with the bot in the terminal, driven here through a pipe."""

import subprocess
import sys

import pytest

from devtools.paths import PROJECT


@pytest.fixture
def chat(tmp_path):
    """Pipe lines into `python -m devtools.chat`, as `printf ... | make chat` does: its stdout."""

    def run(*lines: str) -> list[str]:
        finished = subprocess.run(
            [sys.executable, "-m", "devtools.chat", "--conversations", tmp_path / "c.json"],
            input="".join(f"{line}\n" for line in lines),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert finished.stderr == ""
        return finished.stdout.splitlines()

    return run


def test_a_piped_text_prints_the_replies_and_ends(chat):
    assert chat("HOURS") == ["bot> We're open 9am to 5pm, Monday to Friday."]


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


def test_quit_ends_the_chat_before_the_next_line(chat):
    assert chat("/quit", "HOURS") == []


def test_an_unknown_command_lists_the_commands(chat):
    assert chat("/what")[0].startswith("commands: /media URL")
