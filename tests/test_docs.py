"""The docs stay true: the three commands first, the same steps in English and Japanese, a layout
table that matches the tree, make targets that exist, links that lead somewhere."""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
README = (PROJECT / "README.md").read_text()
README_JA = (PROJECT / "README.ja.md").read_text()
DOCS = sorted((PROJECT / "docs").glob("*.md"))
EVERY_DOCUMENT = [PROJECT / "README.md", PROJECT / "README.ja.md", *DOCS]


def commands(markdown: str) -> list[str]:
    """The command lines of the shell blocks, without comments, continuations joined."""
    blocks = re.findall(r"```sh\n(.*?)```", markdown, re.DOTALL)
    joined = "\n".join(blocks).replace("\\\n", " ")
    lines = (line.split("  #")[0].split(" # ")[0].strip() for line in joined.splitlines())
    return [re.sub(r"\s+", " ", line) for line in lines if line]


def test_the_first_command_runs_the_webhook_and_the_second_the_tests():
    assert commands(README)[:2] == ["make run", "make test"]


def test_the_third_command_deploys():
    assert commands(README)[2] == "make deploy"


def test_the_make_targets_the_readmes_name_exist():
    targets = set(re.findall(r"^([a-z-]+):", (PROJECT / "Makefile").read_text(), re.MULTILINE))
    named = {c.split()[1] for c in commands(README) + commands(README_JA) if c.startswith("make ")}

    assert named <= targets


@pytest.mark.parametrize("document", EVERY_DOCUMENT, ids=lambda path: path.name)
def test_every_make_target_a_document_names_exists(document):
    targets = set(re.findall(r"^([\w-]+):", (PROJECT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", document.read_text()))

    assert named - targets == set()


def layout_table() -> dict[str, str]:
    """The README's project layout: each path (or each of `a`, `b` in one row) and its line."""
    section = README.split("## Project layout", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[^|]+`) \| (.+) \|$", section, re.MULTILINE)
    return {path: text for cell, text in rows for path in re.findall(r"`([^`]+)`", cell)}


def test_the_layout_table_is_one_table_naming_each_path_once():
    section = README.split("## Project layout", 1)[1].split("\n## ", 1)[0]
    table = section.strip().split("\n\n", 1)[0]
    rows = re.findall(r"^\| (`.+?) \|", section, re.MULTILINE)

    assert rows == re.findall(r"^\| (`.+?) \|", table, re.MULTILINE)
    assert len(rows) == len(set(rows))


def test_every_path_of_the_layout_table_exists():
    assert [path for path in layout_table() if not (PROJECT / path).exists()] == []


def test_every_module_and_top_level_entry_is_in_the_layout_table():
    top_level = {
        entry.name + ("/" if entry.is_dir() else "")
        for entry in PROJECT.iterdir()
        if not entry.name.startswith((".", "__"))  # the virtualenv, build output, caches, git
    }
    modules = {f"sms_webhook/{module.name}" for module in (PROJECT / "sms_webhook").glob("*.py")}
    expected = (top_level | modules) - {"sms_webhook/__init__.py"}
    known = {"README.md", "README.ja.md", "Makefile", "pyproject.toml"} | {
        path for path in expected if path.startswith("requirements")
    }
    listed = set(layout_table())
    covered = {path for path in expected if any(item.startswith(path) for item in listed)}

    assert sorted(expected - known - covered) == []


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")


@pytest.mark.parametrize("document", EVERY_DOCUMENT, ids=lambda path: path.name)
def test_every_link_to_a_file_leads_to_one(document):
    targets = [link for link in LINK.findall(document.read_text()) if "://" not in link]

    assert [link for link in targets if not (document.parent / link).exists()] == []


def test_the_readme_can_be_read_in_five_minutes():
    assert len(README.splitlines()) <= 200


def test_ci_runs_the_test_command_the_readme_gives():
    assert "make test" in (PROJECT / ".ci" / "run").read_text().splitlines()


def test_ci_runs_the_tests_a_second_time_on_what_the_first_run_left():
    assert (PROJECT / ".ci" / "run").read_text().splitlines().count("make test") == 2


def test_every_command_of_the_japanese_readme_is_one_of_the_english_readme():
    english = set(commands(README))

    assert [command for command in commands(README_JA) if command not in english] == []


def test_the_japanese_readme_has_the_quick_start_deploy_and_console_steps():
    for heading in (
        "## クイックスタート",
        "## デプロイ",
        "### Twilio コンソールで番号を設定する",
    ):
        assert heading in README_JA
