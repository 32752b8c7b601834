"""The webhook's cost: each contender's cold start and warm requests, interleaved (A B C A B C
...); the project's with its token in SSM, against another checkout of it (`--before`), with each
of its caches taken away, and with conversations."""

import marshal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Literal, TypedDict

import boto3

from bench.contenders import (
    CONTENDERS,
    DRIVERS,
    WORK,
    ArtifactSize,
    Environment,
    artifact_sizes,
    bare_start,
    environment,
    run_project_driver,
    venv_python,
    write_events,
)
from bench.events import TOKEN, worst_forged_events
from bench.moto_server import AWS_CREDENTIALS, client_options, moto_server
from devtools.proxy_events import Event

TOKEN_PARAMETER = "/twilio/auth-token"  # where the project reads it from, in the SSM run


class ColdStart(TypedDict):
    status: int
    wall_ms: float
    import_ms: float
    first_answer_ms: float
    peak_rss_mib: float
    cold_ms: float
    """The wall time less a bare interpreter's."""


ColdFigure = Literal["cold_ms", "import_ms", "first_answer_ms", "peak_rss_mib"]


class WarmRun(TypedDict):
    statuses: list[int]
    valid_us: float
    forged_us: float
    worst: dict[str, float]
    """Microseconds per worst forged request, by name (the project's only)."""


class ContenderFigures(TypedDict):
    """A contender's medians over the rounds."""

    answers: list[int]
    cold_ms: float
    import_ms: float
    first_answer_ms: float
    peak_rss_mib: float
    warm_valid_us: float
    warm_forged_us: float
    worst_forged_us: dict[str, float]
    artifact: ArtifactSize


class BeforeFigures(TypedDict):
    """The cold start of the checkout given with `--before`, in the project's virtualenv."""

    checkout: str
    answers: list[int]
    cold_ms: float
    import_ms: float
    peak_rss_mib: float


class SsmFigures(TypedDict):
    """The project's cold start with its token in SSM."""

    answers: list[int]
    cold_ms: float
    first_answer_ms: float
    peak_rss_mib: float


class Ratios(TypedDict):
    """The project's figures over a reference's."""

    cold: float
    warm_valid: float
    warm_forged: float
    peak_rss: float
    artifact_zipped: float


class CacheFigures(TypedDict):
    valid_us: float
    forged_us: float


def median(runs: list[ColdStart], figure: ColdFigure) -> float:
    return statistics.median(run[figure] for run in runs)


def run_cold(name: str, events_file: Path, env: Environment, code: Path | None = None) -> ColdStart:
    """A cold start of the contender, or with `code`, of that checkout of it in its virtualenv,
    less a bare interpreter's start just before it."""
    bare = bare_start(name, env)
    contender = CONTENDERS[name]
    result_file = WORK / f"{name}{'-other' if code else ''}.cold"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(venv_python(name)), DRIVERS / "cold.py", contender.module, events_file, result_file],
        cwd=code or contender.code,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if process.wait() != 0:
        raise RuntimeError(f"{name}: the cold process failed")
    wall = time.perf_counter() - started
    status, imported, answered, peak_kib = marshal.loads(result_file.read_bytes())
    return {
        "status": status,
        "wall_ms": wall * 1000,
        "import_ms": imported * 1000,
        "first_answer_ms": answered * 1000,
        # The process's own high-water mark: getrusage would count the benchmark's memory too,
        # which the child inherits between fork and exec.
        "peak_rss_mib": peak_kib / 1024,
        "cold_ms": wall * 1000 - bare,
    }


def run_warm(name: str, events_file: Path, env: Environment) -> WarmRun:
    contender = CONTENDERS[name]
    result_file = WORK / f"{name}.warm"
    subprocess.run(
        [str(venv_python(name)), DRIVERS / "warm.py", contender.module, events_file, result_file],
        cwd=contender.code,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    statuses, valid_us, forged_us, worst_us = marshal.loads(result_file.read_bytes())
    return {"statuses": statuses, "valid_us": valid_us, "forged_us": forged_us, "worst": worst_us}


def measure_contenders(
    one_event: Path,
    valid: list[Event],
    forged: list[Event],
    *,
    rounds: int,
    loops: int,
    before: Path | None,
) -> tuple[dict[str, ContenderFigures], BeforeFigures | None]:
    """Each contender's cold starts (with `before`, that checkout's too, interleaved) and warm
    requests: their medians."""
    warm_events = {
        name: write_events(
            WORK / f"{name}-warm.marshal",
            (valid, forged, worst_forged_events() if name == "project" else {}, loops),
        )
        for name in CONTENDERS
    }
    env = environment()
    cold: dict[str, list[ColdStart]] = {name: [] for name in CONTENDERS}
    warm: dict[str, list[WarmRun]] = {name: [] for name in CONTENDERS}
    before_cold: list[ColdStart] = []
    for _ in range(rounds):
        for name in CONTENDERS:
            cold[name].append(run_cold(name, one_event, env))
        if before:
            before_cold.append(run_cold("project", one_event, env, code=before))
    for _ in range(max(1, rounds // 3)):
        for name in CONTENDERS:
            warm[name].append(run_warm(name, warm_events[name], env))
    contenders: dict[str, ContenderFigures] = {}
    for name in CONTENDERS:
        statuses = {r["status"] for r in cold[name]} | {
            s for w in warm[name] for s in w["statuses"]
        }
        contenders[name] = {
            "answers": sorted(statuses),
            "cold_ms": median(cold[name], "cold_ms"),
            "import_ms": median(cold[name], "import_ms"),
            "first_answer_ms": median(cold[name], "first_answer_ms"),
            "peak_rss_mib": median(cold[name], "peak_rss_mib"),
            "warm_valid_us": statistics.median(w["valid_us"] for w in warm[name]),
            "warm_forged_us": statistics.median(w["forged_us"] for w in warm[name]),
            "worst_forged_us": {
                kind: statistics.median(w["worst"][kind] for w in warm[name])
                for kind in warm[name][0]["worst"]
            },
            "artifact": artifact_sizes(name),
        }
    if not before:
        return contenders, None
    return contenders, {
        "checkout": str(before),
        "answers": sorted({r["status"] for r in before_cold}),
        "cold_ms": median(before_cold, "cold_ms"),
        "import_ms": median(before_cold, "import_ms"),
        "peak_rss_mib": median(before_cold, "peak_rss_mib"),
    }


def measure_ssm(event_file: Path, rounds: int) -> SsmFigures:
    """The project's cold start when its token comes from SSM (moto's server on loopback)."""
    with moto_server() as endpoint:
        boto3.client("ssm", **client_options(endpoint)).put_parameter(
            Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString"
        )
        env = environment(
            TWILIO_AUTH_TOKEN="",
            TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER,
            AWS_ENDPOINT_URL_SSM=endpoint,
            **AWS_CREDENTIALS,
        )
        results = [run_cold("project", event_file, env) for _ in range(rounds)]
    return {
        "answers": sorted({r["status"] for r in results}),
        "cold_ms": median(results, "cold_ms"),
        "first_answer_ms": median(results, "first_answer_ms"),
        "peak_rss_mib": median(results, "peak_rss_mib"),
    }


def ratios(contenders: dict[str, ContenderFigures]) -> dict[str, Ratios]:
    project = contenders["project"]
    found: dict[str, Ratios] = {}
    for reference in ("floor", "flask"):
        other = contenders[reference]
        found[reference] = {
            "cold": project["cold_ms"] / other["cold_ms"],
            "warm_valid": project["warm_valid_us"] / other["warm_valid_us"],
            "warm_forged": project["warm_forged_us"] / other["warm_forged_us"],
            "peak_rss": project["peak_rss_mib"] / other["peak_rss_mib"],
            "artifact_zipped": project["artifact"]["zipped_mib"] / other["artifact"]["zipped_mib"],
        }
    return found


def measure_caches(
    valid: list[Event], forged: list[Event], loops: int, env: Environment
) -> dict[str, CacheFigures]:
    """Warm µs per valid and forged event with each of the project's caches taken away."""
    events = write_events(WORK / "caches.marshal", (valid, forged, loops))
    result_file = WORK / "project.caches"
    run_project_driver("caches.py", [events, result_file], env)
    return {
        name: {"valid_us": valid_us, "forged_us": forged_us}
        for name, (valid_us, forged_us) in marshal.loads(result_file.read_bytes()).items()
    }


def measure_conversations(loops: int, env: Environment) -> dict[str, float]:
    """Warm µs per message with no conversation, one a test reads, one read and written."""
    result_file = WORK / "project.conversations"
    run_project_driver("conversation.py", [str(loops), result_file], env)
    figures: dict[str, float] = marshal.loads(result_file.read_bytes())
    return figures
