"""The artifacts `make test` builds with `sam build` before running the tests."""

import platform
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BUILDS = PROJECT / ".aws-sam" / "test"
ARCHITECTURES = ("arm64", "x86_64")
HOST_ARCHITECTURE = {"aarch64": "arm64"}.get(platform.machine(), platform.machine())
RUNTIME_DIR = PROJECT / ".venv" / "lambda-runtime"
WEBHOOK = "WebhookFunction"
WORKER = "LaterRepliesFunction"
FUNCTIONS = (WEBHOOK, WORKER)


def built_template(architecture: str) -> Path:
    """The template `sam build` wrote for that architecture; fails if it has not been built."""
    template = BUILDS / architecture / "template.yaml"
    if not template.exists():
        pytest.fail(f"{template} is missing: run the tests with `make test`, which builds it")
    return template


def artifact(architecture: str, function: str = WEBHOOK) -> Path:
    return built_template(architecture).parent / function
