"""`sam build` makes, without Docker, an artifact of only what runs, for either architecture."""

import hashlib
import re
from importlib.metadata import distributions
from pathlib import Path

import pytest
from builds import ARCHITECTURES, PROJECT, artifact, built_template
from packaging.requirements import Requirement
from samcli.yamlhelper import yaml_parse

HANDLER_CODE = {"handler.py", "replies.py", "sms_webhook"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements() -> list[str]:
    lines = (PROJECT / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_build_succeeds_for_the_architecture(architecture):
    template = yaml_parse(built_template(architecture).read_text())
    function = template["Resources"]["WebhookFunction"]["Properties"]

    assert function["CodeUri"] == "WebhookFunction"
    assert (artifact(architecture) / function["Handler"].split(".")[0]).with_suffix(".py").is_file()


def test_artifacts_for_both_architectures_are_identical():
    def code(root: Path) -> dict[str, str]:
        # pip's RECORD files list the console scripts (removed) with their build-path shebangs.
        return {p: d for p, d in file_digests(root).items() if not p.endswith(".dist-info/RECORD")}

    assert code(artifact("arm64")) == code(artifact("x86_64"))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_artifact_holds_the_handler_code_and_runtime_dependencies_only(architecture):
    installed = {
        normalized(d.metadata["Name"]): d for d in distributions(path=[str(artifact(architecture))])
    }
    top_level = {path.name for path in artifact(architecture).iterdir()}
    dependency_files = {
        Path(str(file)).parts[0] for dist in installed.values() for file in dist.files or []
    }

    assert set(installed) == {normalized(Requirement(line).name) for line in runtime_requirements()}
    assert top_level - dependency_files == HANDLER_CODE


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_artifact_has_no_bytecode_compiled_for_another_python(architecture):
    names = {path.name for path in artifact(architecture).rglob("*")}

    assert not [name for name in names if name == "__pycache__" or name.endswith(".pyc")]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_artifact_has_no_compiled_code_so_it_runs_on_either_architecture(architecture):
    root = artifact(architecture)
    wheel_tags = {
        line.split(":", 1)[1].strip()
        for wheel in root.glob("*.dist-info/WHEEL")
        for line in wheel.read_text().splitlines()
        if line.startswith("Tag:")
    }

    assert not [p for p in root.rglob("*") if p.suffix in {".so", ".pyd"} or ".so." in p.name]
    assert all(tag.endswith("-none-any") for tag in wheel_tags), wheel_tags


def test_the_handler_code_is_copied_as_it_is():
    def handler_code(root: Path) -> dict[str, str]:
        digests = file_digests(root)
        return {p: d for p, d in digests.items() if p.split("/")[0] in HANDLER_CODE}

    assert handler_code(artifact("arm64")) == {
        path: digest
        for path, digest in handler_code(PROJECT).items()
        if path.endswith(".py") and "__pycache__" not in path
    }


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_of_twilio_only_the_validator_and_twiml_are_deployed(architecture):
    kept = {path.name for path in (artifact(architecture) / "twilio").iterdir()}

    assert kept == {"__init__.py", "request_validator.py", "twiml"}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_of_powertools_the_event_handler_and_unused_utilities_are_left_out(architecture):
    powertools = artifact(architecture) / "aws_lambda_powertools"
    utilities = {path.name for path in (powertools / "utilities").iterdir()}

    assert not (powertools / "event_handler").exists()
    assert utilities == {
        "__init__.py",
        "idempotency",
        "jmespath_utils",
        "parameters",
        "serialization.py",
        "typing",
    }
