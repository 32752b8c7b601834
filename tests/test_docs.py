"""The READMEs: the three commands first, and the same steps in English and Japanese."""

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
README = (PROJECT / "README.md").read_text()
README_JA = (PROJECT / "README.ja.md").read_text()


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


def test_ci_runs_the_test_command_the_readme_gives():
    assert "make test" in (PROJECT / ".ci" / "run").read_text().splitlines()


def test_ci_runs_the_tests_a_second_time_on_what_the_first_run_left():
    assert (PROJECT / ".ci" / "run").read_text().splitlines().count("make test") == 2


def test_every_command_of_the_japanese_readme_is_one_of_the_english_readme():
    english = set(commands(README))

    assert [command for command in commands(README_JA) if command not in english] == []


def test_the_japanese_readme_has_the_quick_start_deploy_and_console_steps():
    for heading in (
        "## 3 つのコマンド",
        "## クローンから本番の番号まで",
        "### Twilio コンソールで手動で設定する",
    ):
        assert heading in README_JA
