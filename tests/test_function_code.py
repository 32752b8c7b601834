"""What `make run` and `make chat` say of code that cannot be imported: one line, where and what."""

import runpy
import shutil
from pathlib import Path

import pytest

from devtools import function_code
from devtools.function_code import import_error
from tests.support.local_project import PROJECT


@pytest.fixture
def replies(tmp_path, monkeypatch) -> Path:
    """A copy of replies.py in a project of the test's own."""
    monkeypatch.setattr(function_code, "PROJECT", tmp_path)
    return Path(shutil.copy2(PROJECT / "replies.py", tmp_path / "replies.py"))


def edited(path: Path, old: str, new: str) -> int:
    """Replace `old` in the file; the number of the line `new` starts on."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def import_error_of(path: Path, raises: type[Exception]) -> str:
    """What is said of the file's code, which raises `raises` as it runs."""
    with pytest.raises(raises) as raised:
        runpy.run_path(str(path))
    return import_error(raised.value)


def test_a_syntax_error_is_the_file_the_line_and_the_message(replies):
    line = edited(replies, "import os\n", "import os(\n")

    assert (
        import_error_of(replies, SyntaxError) == f"replies.py:{line}: SyntaxError: invalid syntax"
    )


def test_an_import_of_a_missing_module_is_the_line_that_imports_it(replies):
    line = edited(replies, "import os\n", "import a_module_nobody_wrote\n")

    assert import_error_of(replies, ModuleNotFoundError) == (
        f"replies.py:{line}: ModuleNotFoundError: No module named 'a_module_nobody_wrote'"
    )


def test_an_error_raised_in_a_library_is_placed_at_the_projects_line_that_called_it(replies):
    line = edited(replies, "import os\n", "import os\nimport json\njson.loads('{')\n") + 2

    assert import_error_of(replies, ValueError) == (
        f"replies.py:{line}: JSONDecodeError: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )


def test_a_message_of_several_lines_is_cut_to_its_first(replies):
    line = edited(replies, "import os\n", "import os\nraise RuntimeError('first\\nsecond')\n") + 1

    assert import_error_of(replies, RuntimeError) == f"replies.py:{line}: RuntimeError: first"
