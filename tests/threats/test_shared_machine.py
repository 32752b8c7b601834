"""Threat: another user of the machine and the files a local run keeps.

The conversations (and their lock) and the outbox hold numbers and texts, and what the handler
reads back. env.json used to put them straight in /tmp, where anyone could read the outbox (0644),
plant the conversation the handler reads, hold the lock for ever, or make the outbox append
through a symbolic link into another of your files. Now each lives in a folder of your own (made
0700), is 0600, is never opened through a link, and the lock is waited for `LOCK_WAIT` at most;
a file that fails this is refused, the refusal logged, and the message answered without its
conversation. Real files, a real link, a lock held by another process.
"""

import fcntl
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from devtools.invoke import in_own_tmp
from devtools.paths import FUNCTION_ID, PROJECT, WORKER_ID
from sms_webhook import local_files
from sms_webhook.conversation import Conversation
from sms_webhook.conversation_store import (
    Answered,
    Conversations,
    FileStore,
    Stored,
)
from sms_webhook.local_files import LocalFileRefusedError, LockTimeoutError
from sms_webhook.local_run import LocalRun
from sms_webhook.message import IncomingMessage
from sms_webhook.sending import Outgoing

KEY = "+15005550006 +14155551234"
PLANTED = json.dumps(
    {KEY: {"state": '{"vip": true}', "history": "[]", "version": 1, "expires_at": 9999999999}}
)
"""A conversation someone else wrote, making the sender a VIP."""
TEXT = Outgoing("AC" + "0" * 32, "+14155551234", "+15005550006", "your code: 1234", (), None)
SHARED_TMP = "/tmp"  # noqa: S108 - the folder under test: everyone's


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def conversation_seen(path: Path) -> Conversation:
    """The conversation the next message's handler gets from the file at `path`."""
    got: list[Conversation] = []

    def look(conversation: Conversation) -> Answered:
        got.append(conversation)
        return Answered((), kept=False)

    message = IncomingMessage(
        "SM" + "1" * 32, "AC" + "0" * 32, "+14155551234", "+15005550006", "hi"
    )
    Conversations(FileStore(path), ttl_seconds=3600, history_length=10).turn(message, look)
    return got[0]


def send_to_outbox(monkeypatch, outbox: Path) -> None:
    monkeypatch.setenv("OUTBOX_FILE", str(outbox))
    LocalRun().deliver(TEXT)


# Where they are, and who may read them


def test_local_files_are_made_in_a_folder_of_your_own_readable_by_you_alone(tmp_path, monkeypatch):
    folder = tmp_path / "local"
    FileStore(folder / "conversations.json").write(KEY, Stored("{}", "[]", 0), 9999999999)
    send_to_outbox(monkeypatch, folder / "outbox.jsonl")

    assert mode(folder) == 0o700
    assert {path.name: mode(path) for path in folder.iterdir()} == {
        "conversations.json": 0o600,
        "conversations.json.lock": 0o600,
        "outbox.jsonl": 0o600,
    }


def test_an_outbox_others_could_read_is_made_yours_alone(tmp_path, monkeypatch):
    outbox = tmp_path / "outbox.jsonl"
    outbox.write_text("")
    outbox.chmod(0o644)

    send_to_outbox(monkeypatch, outbox)

    assert mode(outbox) == 0o600


@pytest.mark.parametrize("function_id", [FUNCTION_ID, WORKER_ID])
def test_make_invoke_keeps_env_jsons_files_in_a_folder_of_your_own(tmp_path, function_id):
    env_json = json.loads((PROJECT / "env.json").read_text())[function_id]

    variables = in_own_tmp(env_json, tmp_path)

    for name in ("CONVERSATION_FILE", "OUTBOX_FILE"):
        assert Path(variables[name]).parent == tmp_path / "twilio-sms-webhook"


def test_files_right_in_the_shared_tmp_are_refused_and_nothing_is_made_there(logs):
    path = Path(SHARED_TMP) / f"conversations-{os.getpid()}-under-test.json"

    assert conversation_seen(path).available is False
    assert not Path(f"{path}.lock").exists()
    assert "local file refused" in logs.messages()


def test_a_folder_others_may_write_in_is_refused_with_what_it_holds(tmp_path, monkeypatch, logs):
    folder = tmp_path / "everyones"
    folder.mkdir()
    (folder / "conversations.json").write_text(PLANTED)
    folder.chmod(0o1777)  # as /tmp

    assert conversation_seen(folder / "conversations.json").state == {}
    with pytest.raises(LocalFileRefusedError, match="may be written in by other users"):
        send_to_outbox(monkeypatch, folder / "outbox.jsonl")
    assert not (folder / "outbox.jsonl").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user")
def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o755)
    os.chown(folder, 65534, 65534)

    with pytest.raises(LocalFileRefusedError, match="belongs to another user"):
        send_to_outbox(monkeypatch, folder / "outbox.jsonl")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_conversation_file_of_another_user_is_not_read(tmp_path):
    planted = tmp_path / "conversations.json"
    planted.write_text(PLANTED)
    os.chown(planted, 65534, 65534)

    assert conversation_seen(planted).state == {}


# Links planted where the files go


def test_the_outbox_never_appends_through_a_planted_link(tmp_path, monkeypatch, logs):
    yours = tmp_path / "your-notes.txt"
    yours.write_text("my notes\n")
    (tmp_path / "outbox.jsonl").symlink_to(yours)

    with pytest.raises(LocalFileRefusedError, match="is a symbolic link"):
        send_to_outbox(monkeypatch, tmp_path / "outbox.jsonl")
    assert yours.read_text() == "my notes\n"
    assert "local file refused" in logs.messages()


def test_a_conversation_file_planted_as_a_link_is_not_read(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "state.json").write_text(PLANTED)
    (tmp_path / "conversations.json").symlink_to(elsewhere / "state.json")

    assert conversation_seen(tmp_path / "conversations.json").state == {}


def test_a_lock_file_planted_as_a_link_is_refused(tmp_path):
    yours = tmp_path / "your-notes.txt"
    yours.write_text("my notes\n")
    (tmp_path / "conversations.json.lock").symlink_to(yours)

    with pytest.raises(LocalFileRefusedError):
        FileStore(tmp_path / "conversations.json").read(KEY)
    assert yours.read_text() == "my notes\n"


def test_a_folder_planted_as_a_link_is_refused(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "local").symlink_to(elsewhere)

    with pytest.raises(LocalFileRefusedError, match="cannot be opened as a folder"):
        send_to_outbox(monkeypatch, tmp_path / "local" / "outbox.jsonl")
    assert list(elsewhere.iterdir()) == []


# A lock held by another process


def hold_lock(lock: str, held, release) -> None:
    """Another process: takes the lock as a stuck `make chat` would, and keeps it."""
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    held.set()
    release.wait(20)


@pytest.fixture
def lock_held(tmp_path):
    """Another process holding the conversation file's lock (for 20 s at most)."""
    fork = multiprocessing.get_context("fork")
    held, release = fork.Event(), fork.Event()
    holder = fork.Process(
        target=hold_lock, args=(str(tmp_path / "conversations.json.lock"), held, release)
    )
    holder.start()
    assert held.wait(20)
    yield tmp_path / "conversations.json"
    release.set()
    holder.join(20)


def test_a_lock_held_by_another_process_is_waited_for_a_bounded_time(lock_held, monkeypatch, logs):
    monkeypatch.setattr(local_files, "LOCK_WAIT", 0.2)

    with pytest.raises(LockTimeoutError):
        FileStore(lock_held).read(KEY)
    [line] = [r for r in logs.records if r["message"].startswith("conversation file locked")]
    assert line["file"] == f"{lock_held}.lock"


def test_a_message_is_answered_without_its_conversation_while_the_lock_is_held(
    lock_held, monkeypatch, logs
):
    monkeypatch.setattr(local_files, "LOCK_WAIT", 0.2)

    assert conversation_seen(lock_held).available is False
    [failure] = [r for r in logs.records if r["message"] == "conversation store unavailable"]
    assert failure["reason"] == "LockTimeoutError"
