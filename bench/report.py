"""What the benchmark found (`Report`, which bench/results.json holds), and the tables `make
bench` prints and writes to docs/benchmark.md."""

import os
import platform
import time
from typing import Literal, NotRequired, TypedDict

from bench.journey import JOURNEY_RUNS, JOURNEY_TESTS
from bench.later_replies import LaterFigures
from bench.timers import TimerFigures
from bench.webhook import BeforeFigures, CacheFigures, ContenderFigures, Ratios, SsmFigures
from bench.worker import WORKER_RUNS, WorkerFigures


class Machine(TypedDict):
    python: str
    machine: str
    cpus: int | None
    date: str


class AgainstBefore(TypedDict, total=False):
    """With `--before` only: results.json holds it after the ratios."""

    before: BeforeFigures


class Report(TypedDict):
    machine: Machine
    rounds: int
    loops: int
    contenders: dict[str, ContenderFigures]
    project_token_in_ssm: SsmFigures
    ratios: dict[str, Ratios]
    before: NotRequired[BeforeFigures]
    """With `--before` only."""
    later_replies: LaterFigures
    worker: WorkerFigures
    timers: TimerFigures
    caches: dict[str, CacheFigures]
    conversations: dict[str, float]


class Results(Report):
    """What a full run writes to results.json: the report, and the journey."""

    journey: dict[str, float]


ComparedFigure = Literal["cold_ms", "warm_valid_us", "warm_forged_us", "peak_rss_mib"]
ComparedRatio = Literal["cold", "warm_valid", "warm_forged", "peak_rss"]


def machine() -> Machine:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }


def table(report: Report) -> str:
    c = report["contenders"]
    r = report["ratios"]
    rows: list[tuple[str, ComparedFigure, ComparedRatio]] = [
        ("cold start (ms, minus bare interpreter)", "cold_ms", "cold"),
        ("warm valid request (µs)", "warm_valid_us", "warm_valid"),
        ("warm forged request (µs)", "warm_forged_us", "warm_forged"),
        ("peak RSS (MiB)", "peak_rss_mib", "peak_rss"),
    ]
    lines = [
        "| metric | project | floor | flask | project/floor | project/flask |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, key, ratio in rows:
        values = " | ".join(f"{c[name][key]:.1f}" for name in ("project", "floor", "flask"))
        lines.append(
            f"| {label} | {values} | {r['floor'][ratio]:.2f}× | {r['flask'][ratio]:.2f}× |"
        )
    imports = " | ".join(f"{c[n]['import_ms']:.1f}" for n in ("project", "floor", "flask"))
    lines.append(f"| import alone (ms) | {imports} | | |")
    sizes = " | ".join(
        f"{c[n]['artifact']['unzipped_mib']:.2f} / {c[n]['artifact']['zipped_mib']:.2f}"
        for n in ("project", "floor", "flask")
    )
    lines.append(
        f"| artifact MiB (unzipped / zipped) | {sizes} | | "
        f"{r['flask']['artifact_zipped']:.2f}× zipped |"
    )
    ssm = report["project_token_in_ssm"]["cold_ms"]
    lines.append(
        f"| cold start, token in SSM (ms) | {ssm:.1f} | | | "
        f"{ssm / c['floor']['cold_ms']:.2f}× | {ssm / c['flask']['cold_ms']:.2f}× |"
    )
    normal = c["project"]["warm_forged_us"]
    lines += ["", "| worst forged request (project) | µs | × a normal forged one |"]
    lines.append("|---|---:|---:|")
    for kind, micros in c["project"]["worst_forged_us"].items():
        lines.append(f"| {kind} | {micros:.1f} | {micros / normal:.2f}× |")
    return "\n".join(lines)


def caches_table(report: Report) -> str:
    caches = report["caches"]
    kept = caches["none taken away"]
    lines = [
        "| cache taken away | valid µs | forged µs | what it saves a valid / forged request |",
        "|---|---:|---:|---:|",
    ]
    for name, figures in caches.items():
        saved = (
            f"{figures['valid_us'] - kept['valid_us']:.1f} / "
            f"{figures['forged_us'] - kept['forged_us']:.1f}"
            if name != "none taken away"
            else ""
        )
        lines.append(
            f"| {name} | {figures['valid_us']:.1f} | {figures['forged_us']:.1f} | {saved} |"
        )
    return "\n".join(lines)


def conversations_table(report: Report) -> str:
    cases = report["conversations"]
    plain = cases["no conversation (HOURS)"]
    lines = ["| message | µs | more than with no conversation |", "|---|---:|---:|"]
    for case, micros in cases.items():
        lines.append(f"| {case} | {micros:.1f} | {micros - plain:+.1f} |")
    return "\n".join(lines)


def later_table(report: Report) -> str:
    later = report["later_replies"]
    return "\n".join(
        [
            "| the webhook's answer | ms | more than an ordinary reply (ms) |",
            "|---|---:|---:|",
            f"| an ordinary reply, warm | {later['ordinary_ms']:.2f} | |",
            f"| a later reply, warm: one SQS send | {later['later_ms']:.2f} | "
            f"+{later['added_ms']:.2f} |",
            "| a process's first later reply: boto3 imported, the SQS client made, one send | "
            f"{later['first_later_ms']:.1f} | +{later['first_added_ms']:.1f} |",
        ]
    )


def worker_table(report: Report) -> str:
    lines = [
        "| the worker's first job | cold start (ms, minus bare interpreter) | import: handler "
        "(ms) | import: worker's module, REST client, requests (ms) | the job (ms) | "
        "peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label in WORKER_RUNS:
        run = report["worker"][label]
        lines.append(
            f"| {label} | {run['cold_ms']:.1f} | {run['import_handler_ms']:.1f} | "
            f"{run['import_rest_ms']:.1f} | {run['first_job_ms']:.1f} | "
            f"{run['peak_rss_mib']:.1f} |"
        )
    return "\n".join(lines)


def timers_table(report: Report) -> str:
    timers = report["timers"]
    return "\n".join(
        [
            "| a reminder set: `send_text(..., at=timedelta(hours=1))`, one CreateSchedule | ms |",
            "|---|---:|",
            f"| median of {timers['calls'] - timers['processes']} calls | "
            f"{timers['median_ms']:.2f} |",
            f"| 95th percentile | {timers['p95_ms']:.2f} |",
            "| a process's first: boto3 imported, the Scheduler's client made, one call | "
            f"{timers['first_ms']:.1f} |",
        ]
    )


def before_table(report: Report) -> str:
    now, before = report["contenders"]["project"], report["before"]
    return "\n".join(
        [
            "| token in the environment | cold start (ms) | import alone (ms) | peak RSS (MiB) |",
            "|---|---:|---:|---:|",
            f"| this checkout | {now['cold_ms']:.1f} | {now['import_ms']:.1f} | "
            f"{now['peak_rss_mib']:.1f} |",
            f"| the checkout before (`--before`) | {before['cold_ms']:.1f} | "
            f"{before['import_ms']:.1f} | {before['peak_rss_mib']:.1f} |",
            f"| this / before | {now['cold_ms'] / before['cold_ms']:.3f}× | "
            f"{now['import_ms'] / before['import_ms']:.3f}× | "
            f"{now['peak_rss_mib'] / before['peak_rss_mib']:.3f}× |",
        ]
    )


def journey_table(journey: dict[str, float]) -> str:
    return "\n".join(
        [
            "| step | time |",
            "|---|---:|",
            f"| `make build` after an edit of replies.py (median of {JOURNEY_RUNS}) | "
            f"{journey['build_after_edit_s']:.1f} s |",
            f"| `make test TESTS={JOURNEY_TESTS}` after an edit of replies.py "
            f"| {journey['test_after_edit_s']:.0f} s |",
            f"| `make invoke`, cold invocation | {journey['invoke_cold_ms']:.0f} ms |",
            f"| `make invoke`, warm invocation | {journey['invoke_warm_ms']:.1f} ms |",
        ]
    )


def markdown(report: Results) -> str:
    """docs/benchmark.md: the tables `make bench` prints, with the machine and the date, for the
    docs to link to."""
    machine = report["machine"]
    return (
        "_Written by `make bench` ([bench/benchmark.py](../bench/benchmark.py), which says what "
        "is measured and how): do not edit, run `make bench` again._\n\n"
        "# Benchmark\n\n"
        f"Measured on {machine['date']}: Python {machine['python']} on {machine['machine']}, "
        f"{machine['cpus']} CPUs. Cold starts: the median of {report['rounds']} fresh processes; "
        f"warm requests: the median of {report['loops']} loops, in "
        f"{max(1, report['rounds'] // 3)} processes.\n\n"
        f"{table(report)}\n\n"
        "## The caches\n\n"
        "Warm requests with each of the function's caches taken away (its function called "
        "instead), in one process:\n\n"
        f"{caches_table(report)}\n\n"
        "## Conversations\n\n"
        "A message's cost with the local store (a file, as `make run` keeps them), warm, in one "
        "process; deployed, the store is DynamoDB, one read and one write at most, two of each "
        "when another message of the sender wrote in between (see "
        "docs/configuration.md):\n\n"
        f"{conversations_table(report)}\n\n"
        "## Later replies\n\n"
        "What a handler registered with `later=True` (the shipped `REPORT`) adds to the webhook's "
        "answer, the token in the environment, sending to a queue of a moto server on loopback "
        "(the time moto takes included; real SQS is further away), every message deduplicated "
        "in a table of the same server (as a stack with a queue does), in "
        f"{max(1, report['rounds'] // 3)} processes, each with a queue and a table of its own, "
        "new messages each loop; warm: the "
        f"median of {report['later_replies']['loops']} loops:\n\n"
        f"{later_table(report)}\n\n"
        "The worker's cold start (`later_replies_handler`) on one job, the later reply to "
        f"`REPORT`: the median of {report['rounds']} fresh processes each, interleaved; twilio's "
        "REST client sends to a fake of Twilio's Messages API on loopback (plain HTTP), "
        "DynamoDB is a moto server on loopback:\n\n"
        f"{worker_table(report)}\n\n"
        "## Timers\n\n"
        "What setting a reminder costs the handler or script that sets it: one EventBridge "
        "Scheduler call, to a moto server on loopback (the time moto takes included; the real "
        f"Scheduler is further away), in {report['timers']['processes']} fresh processes, each "
        "with a schedule group of its own, each reminder a new schedule:\n\n"
        f"{timers_table(report)}\n\n"
        f"{before_section(report)}"
        "## The journey\n\n"
        "What a developer waits for, on the same machine:\n\n"
        f"{journey_table(report['journey'])}\n"
    )


def before_section(report: Report) -> str:
    if "before" not in report:
        return ""
    return (
        "## Against the checkout before\n\n"
        "The project's cold start, token in the environment, against another checkout of it "
        "(`--before`), the same virtualenv, interleaved, the median of "
        f"{report['rounds']} processes each:\n\n{before_table(report)}\n\n"
    )
