"""The files a local run keeps: in a folder of your own, yours alone, never through a link."""

import os
import stat

import pytest

from sms_webhook.local_files import LocalFileRefusedError, open_private, private_folder


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_missing_folder_is_made_readable_by_you_alone(tmp_path):
    private_folder(str(tmp_path / "local"))

    assert mode(tmp_path / "local") == 0o700


def test_a_folder_of_yours_that_others_may_only_read_is_taken_as_it_is(tmp_path):
    (tmp_path / "notes").mkdir(mode=0o755)

    private_folder(str(tmp_path / "notes"))

    assert mode(tmp_path / "notes") == 0o755


@pytest.mark.parametrize("folder_mode", [0o775, 0o757, 0o1777], ids=oct)
def test_a_folder_others_may_write_in_is_refused(tmp_path, folder_mode):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(folder_mode)

    with pytest.raises(LocalFileRefusedError, match="may be written in by other users"):
        private_folder(str(tmp_path / "shared"))


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    (tmp_path / "local").write_text("")

    with pytest.raises(LocalFileRefusedError, match="cannot be opened as a folder"):
        private_folder(str(tmp_path / "local"))


def test_a_new_file_is_readable_by_you_alone(tmp_path):
    os.close(open_private(str(tmp_path / "outbox.jsonl"), os.O_WRONLY | os.O_CREAT))

    assert mode(tmp_path / "outbox.jsonl") == 0o600


def test_an_existing_file_others_could_read_is_made_yours_alone(tmp_path):
    (tmp_path / "outbox.jsonl").write_text("kept\n")
    (tmp_path / "outbox.jsonl").chmod(0o644)

    os.close(open_private(str(tmp_path / "outbox.jsonl"), os.O_RDONLY))

    assert mode(tmp_path / "outbox.jsonl") == 0o600
    assert (tmp_path / "outbox.jsonl").read_text() == "kept\n"


def test_a_missing_file_opened_without_o_creat_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_private(str(tmp_path / "conversations.json"), os.O_RDONLY)


def test_a_link_is_refused_even_to_a_file_of_yours(tmp_path):
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "conversations.json").symlink_to(tmp_path / "real.json")

    with pytest.raises(LocalFileRefusedError, match="is a symbolic link"):
        open_private(str(tmp_path / "conversations.json"), os.O_RDONLY)


def test_a_pipe_in_place_of_the_file_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "conversations.json", 0o600)

    with pytest.raises(LocalFileRefusedError, match="is not a regular file"):
        open_private(str(tmp_path / "conversations.json"), os.O_RDONLY)


def test_a_refusal_is_logged_with_what_to_do(tmp_path, logs):
    (tmp_path / "outbox.jsonl").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(LocalFileRefusedError):
        open_private(str(tmp_path / "outbox.jsonl"), os.O_WRONLY | os.O_CREAT)

    [line] = [r for r in logs.records if r["message"] == "local file refused"]
    assert line["file"] == str(tmp_path / "outbox.jsonl")
    assert "keep CONVERSATION_FILE and OUTBOX_FILE in a folder of your own" in line["reason"]
