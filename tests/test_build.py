"""`sam build` makes, without Docker, an artifact of only what runs, for either architecture: the
webhook's, and the worker's, which also sends with twilio's REST client."""

import hashlib
import json
import os
import re
import subprocess
import sys
from importlib.metadata import distribution, distributions
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from packaging.requirements import Requirement
from samcli.yamlhelper import yaml_parse

from tests.support.builds import (
    ARCHITECTURES,
    FUNCTIONS,
    HOST_ARCHITECTURE,
    PROJECT,
    WEBHOOK,
    WORKER,
    artifact,
    built_template,
)
from tests.support.recording_twilio import ACCOUNT_SID, API, NUMBER

HANDLER_CODE = {"handler.py", "replies.py", "sms_webhook"}
REQUIREMENTS = {WEBHOOK: "requirements.txt", WORKER: "requirements-worker.txt"}
EACH_BUILD = pytest.mark.parametrize("architecture", ARCHITECTURES)
EACH_FUNCTION = pytest.mark.parametrize("function", FUNCTIONS)
SEND_FROM_ARTIFACT = Path(__file__).parent / "support" / "send_from_artifact.py"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements_file: str) -> dict[str, str]:
    """Each requirement of the file and of the files it includes (`-r`), with its version."""
    found = {}
    for line in (PROJECT / requirements_file).read_text().splitlines():
        if line.startswith("-r "):
            found |= pinned(line.removeprefix("-r ").strip())
        elif line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            found[normalized(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return found


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@EACH_BUILD
@EACH_FUNCTION
def test_build_succeeds_for_the_architecture(architecture, function):
    template = yaml_parse(built_template(architecture).read_text())
    properties = template["Resources"][function]["Properties"]
    code = artifact(architecture, function)

    assert properties["CodeUri"] == function
    assert (code / properties["Handler"].split(".")[0]).with_suffix(".py").is_file()


@EACH_FUNCTION
def test_artifacts_for_both_architectures_are_identical(function):
    def code(root: Path) -> dict[str, str]:
        # pip's RECORD files list the console scripts (removed) with their build-path shebangs.
        return {p: d for p, d in file_digests(root).items() if not p.endswith(".dist-info/RECORD")}

    assert code(artifact("arm64", function)) == code(artifact("x86_64", function))


@EACH_BUILD
@EACH_FUNCTION
def test_artifact_holds_the_handler_code_and_its_pinned_runtime_dependencies_only(
    architecture, function
):
    code = artifact(architecture, function)
    installed = {normalized(d.metadata["Name"]): d for d in distributions(path=[str(code)])}
    top_level = {path.name for path in code.iterdir()}
    dependency_files = {
        Path(str(file)).parts[0] for dist in installed.values() for file in dist.files or []
    }

    assert {name: d.version for name, d in installed.items()} == pinned(REQUIREMENTS[function])
    assert top_level - dependency_files == HANDLER_CODE


def test_the_worker_adds_the_rest_clients_dependencies_to_the_webhooks():
    added = pinned(REQUIREMENTS[WORKER]).keys() - pinned(REQUIREMENTS[WEBHOOK]).keys()

    assert added == {"requests", "urllib3", "idna", "certifi", "charset-normalizer"}
    assert pinned(REQUIREMENTS[WEBHOOK]).items() <= pinned(REQUIREMENTS[WORKER]).items()


@EACH_BUILD
@EACH_FUNCTION
def test_artifact_has_no_bytecode_compiled_for_another_python(architecture, function):
    names = {path.name for path in artifact(architecture, function).rglob("*")}

    assert not [name for name in names if name == "__pycache__" or name.endswith(".pyc")]


@EACH_BUILD
@EACH_FUNCTION
def test_artifact_has_no_compiled_code_so_it_runs_on_either_architecture(architecture, function):
    root = artifact(architecture, function)
    wheel_tags = {
        line.split(":", 1)[1].strip()
        for wheel in root.glob("*.dist-info/WHEEL")
        for line in wheel.read_text().splitlines()
        if line.startswith("Tag:")
    }

    assert not [p for p in root.rglob("*") if p.suffix in {".so", ".pyd"} or ".so." in p.name]
    assert all(tag.endswith("-none-any") for tag in wheel_tags), wheel_tags


@EACH_FUNCTION
def test_the_handler_code_is_copied_as_it_is(function):
    def handler_code(root: Path) -> dict[str, str]:
        digests = file_digests(root)
        return {p: d for p, d in digests.items() if p.split("/")[0] in HANDLER_CODE}

    assert handler_code(artifact("arm64", function)) == {
        path: digest
        for path, digest in handler_code(PROJECT).items()
        if path.endswith(".py") and "__pycache__" not in path
    }


@EACH_BUILD
def test_of_twilio_the_webhook_deploys_only_the_validator_and_twiml(architecture):
    kept = {path.name for path in (artifact(architecture, WEBHOOK) / "twilio").iterdir()}

    assert kept == {"__init__.py", "request_validator.py", "twiml"}


@EACH_BUILD
def test_the_worker_deploys_twilio_whole(architecture):
    twilio = distribution("twilio")
    package = {
        str(file)
        for file in twilio.files or []
        if file.parts[0] == "twilio" and file.suffix != ".pyc"
    }
    root = artifact(architecture, WORKER)
    deployed = {str(path.relative_to(root)) for path in (root / "twilio").rglob("*.*")}

    assert twilio.version == pinned(REQUIREMENTS[WORKER])["twilio"]
    assert deployed == package


POWERTOOLS_UTILITIES = {
    "__init__.py",
    "idempotency",
    "jmespath_utils",
    "parameters",
    "serialization.py",
    "typing",
}


@EACH_BUILD
@pytest.mark.parametrize(
    ("function", "utilities"),
    [
        (WEBHOOK, POWERTOOLS_UTILITIES),
        (WORKER, POWERTOOLS_UTILITIES | {"batch", "data_classes"}),
    ],
)
def test_of_powertools_the_event_handler_and_unused_utilities_are_left_out(
    architecture, function, utilities
):
    powertools = artifact(architecture, function) / "aws_lambda_powertools"

    assert not (powertools / "event_handler").exists()
    assert {path.name for path in (powertools / "utilities").iterdir()} == utilities


def send_from_artifact(function: str, body: str) -> subprocess.CompletedProcess:
    """A text sent with twilio's REST client by an interpreter that has the artifact alone."""
    code = artifact(HOST_ARCHITECTURE, function)
    return subprocess.run(
        [sys.executable, "-S", SEND_FROM_ARTIFACT, ACCOUNT_SID, "+14155550100", NUMBER, body],
        cwd=code,
        # Tests never change what they inspect: no __pycache__ in the artifact.
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_the_worker_sends_with_twilios_rest_client_and_what_the_artifact_carries():
    result = send_from_artifact(WORKER, "Your report: 3 new orders")

    assert result.returncode == 0, result.stderr[-2000:]
    sent = json.loads(result.stdout)
    assert (sent["method"], sent["url"]) == ("POST", f"{API}/Messages.json")
    assert parse_qs(sent["body"]) == {
        "To": ["+14155550100"],
        "From": [NUMBER],
        "Body": ["Your report: 3 new orders"],
    }
    code = artifact(HOST_ARCHITECTURE, WORKER)
    assert [m for m, file in sent["modules"].items() if not file.startswith(f"{code}/")] == []


def test_the_webhook_carries_no_rest_client_to_send_with():
    result = send_from_artifact(WEBHOOK, "hi")

    assert result.returncode == 1
    assert "No module named 'requests'" in result.stderr
