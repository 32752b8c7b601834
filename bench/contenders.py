"""The contenders, each in its own virtualenv under .bench/ (built here, from PyPI), and how a
process that measures one is run: a script of bench/drivers/ with the contender's interpreter,
its figures handed back in marshal's format."""

import io
import marshal
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import NamedTuple, TypedDict

from bench.events import TOKEN
from devtools.paths import PROJECT
from devtools.proxy_events import Event

WORK = PROJECT / ".bench"
REFERENCES = PROJECT / "bench" / "references"
DRIVERS = PROJECT / "bench" / "drivers"
"""The scripts each measuring process runs, with the contender's interpreter in its folder."""


class Contender(NamedTuple):
    """Where a contender's code is, the module whose `lambda_handler` answers, and what it
    installs (its requirements file, if any)."""

    code: Path
    module: str
    requirements: Path | None


CONTENDERS = {
    "project": Contender(PROJECT, "handler", PROJECT / "requirements.txt"),
    "floor": Contender(REFERENCES / "floor", "handler", None),
    "flask": Contender(REFERENCES / "flask", "app", REFERENCES / "flask" / "requirements.txt"),
}

Environment = dict[str, str]


class ArtifactSize(TypedDict):
    files: int
    unzipped_mib: float
    zipped_mib: float


def venv_python(name: str) -> Path:
    return WORK / name / "bin" / "python"


def prepare(name: str, contender: Contender, extra: list[str]) -> None:
    """Make the contender's virtualenv with its dependencies (once)."""
    python = venv_python(name)
    stamp = WORK / name / ".ready"
    if stamp.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(WORK / name)], check=True)
    packages = ["-r", str(contender.requirements)] if contender.requirements else []
    if packages or extra:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *packages, *extra], check=True
        )
    stamp.touch()


def environment(**extra: str) -> Environment:
    """What a measuring process gets in its environment: the benchmark's token, and `extra`."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "POWERTOOLS_SERVICE_NAME": "twilio-sms-webhook",
        "AWS_DEFAULT_REGION": "us-east-1",
        **extra,
    }


Events = Event | list[Event] | list[list[Event]] | tuple["Events", ...] | int
"""What a driver reads: events, in lists and tuples, and counts (of loops)."""


def write_events(path: Path, payload: Events) -> Path:
    """`payload` in marshal's format, for a driver to read."""
    path.write_bytes(marshal.dumps(payload))
    return path


def bare_start(name: str, env: Environment) -> float:
    """The milliseconds a bare interpreter of the contender takes to start and end."""
    started = time.perf_counter()
    subprocess.run([str(venv_python(name)), "-c", "pass"], env=env, check=True)
    return (time.perf_counter() - started) * 1000


def run_project_driver(driver: str, arguments: list[str | Path], env: Environment) -> None:
    """Run one of bench/drivers/ with the project's interpreter, in the project's folder."""
    subprocess.run(
        [str(venv_python("project")), DRIVERS / driver, *arguments],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def artifact_sizes(name: str) -> ArtifactSize:
    """The files the contender would deploy: its code and its runtime dependencies."""
    target = WORK / "artifacts" / name
    if not target.exists():
        if name == "project":
            subprocess.run(
                [
                    "make",
                    "--no-print-directory",
                    "build-WebhookFunction",
                    f"ARTIFACTS_DIR={target}",
                ],
                cwd=PROJECT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        else:
            target.mkdir(parents=True)
            contender = CONTENDERS[name]
            shutil.copy(contender.code / f"{contender.module}.py", target)
            if contender.requirements:
                subprocess.run(
                    [
                        str(venv_python(name)),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--no-compile",
                        "--target",
                        str(target),
                        "--only-binary=:all:",
                        "--python-version",
                        "3.13",
                        "--platform",
                        "manylinux2014_aarch64",
                        "-r",
                        str(contender.requirements),
                    ],
                    check=True,
                )
                shutil.rmtree(target / "bin", ignore_errors=True)
    files = [path for path in target.rglob("*") if path.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(target))
    return {
        "files": len(files),
        "unzipped_mib": sum(path.stat().st_size for path in files) / 2**20,
        "zipped_mib": len(buffer.getvalue()) / 2**20,
    }
