"""The project's paths, and `.local/`, the folder of your local files: yours alone."""

import os
import stat

import pytest

from devtools import paths
from devtools.paths import own_folder, own_local_folder_for


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_own_folder_makes_a_missing_folder_readable_by_you_alone(tmp_path):
    own_folder(tmp_path / ".local")

    assert mode(tmp_path / ".local") == 0o700


def test_own_folder_makes_an_older_folder_readable_by_you_alone(tmp_path):
    (tmp_path / ".local").mkdir(mode=0o755)

    own_folder(tmp_path / ".local")

    assert mode(tmp_path / ".local") == 0o700


def test_own_folder_never_changes_a_folder_through_a_link(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o755)
    (tmp_path / ".local").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(NotADirectoryError):  # O_NOFOLLOW: the link itself is no folder
        own_folder(tmp_path / ".local")
    assert mode(tmp_path / "elsewhere") == 0o755


@pytest.fixture
def local(tmp_path, monkeypatch):
    """`.local/` as an older version made it, in a project of the test's own."""
    (tmp_path / ".local").mkdir(mode=0o755)
    monkeypatch.setattr(paths, "LOCAL", tmp_path / ".local")
    return tmp_path / ".local"


def test_local_is_made_yours_alone_when_a_local_file_is_in_it(local, tmp_path):
    own_local_folder_for(tmp_path / "elsewhere.json", local / "outbox.jsonl")

    assert mode(local) == 0o700


def test_local_is_left_alone_when_no_file_is_in_it(local, tmp_path):
    own_local_folder_for(tmp_path / "conversations.json")

    assert mode(local) == 0o755
