"""The worker's cold start on one job, the later reply to `REPORT`: its texts into the local
outbox, or through twilio's REST client to the fake of Twilio's Messages API on loopback
(devtools/fake_twilio.py), each run and send recorded once in DynamoDB (a moto server)."""

import marshal
import statistics
import time
from typing import Any, NamedTuple, TypedDict
from urllib.parse import urlsplit

from bench.contenders import (
    WORK,
    Environment,
    bare_start,
    environment,
    run_project_driver,
    write_events,
)
from bench.events import reply_job_event
from bench.moto_server import AWS_CREDENTIALS, create_idempotency_table, moto_server
from devtools.fake_twilio import Request, TwilioMessages, serving
from devtools.twilio_message import ACCOUNT_SID, SENDER

WORKER_RUNS = {
    "texts into the local outbox (a local run)": "outbox",
    "texts through twilio's REST client, each run and send recorded once (DynamoDB)": "deployed",
}
"""Each kind of run, by the label the report gives it."""
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


class WorkerRun(TypedDict):
    """One process's figures; a kind of run's medians, in the report."""

    cold_ms: float
    import_handler_ms: float
    import_rest_ms: float
    first_job_ms: float
    peak_rss_mib: float


WorkerFigures = dict[str, Any]
"""Whether each job was done right once (`failed`, `twilio_requests`, `twilio_requests_expected`,
`twilio_requests_right`: counts) and, under each label of `WORKER_RUNS`, that kind of run's medians
(a `WorkerRun`): results.json keeps them side by side."""


class Job(NamedTuple):
    """What bench/drivers/worker.py found in one process: how many records failed, and figures."""

    failed: int
    figures: WorkerRun


def run_worker(kind: str, round_number: int, env: Environment, twilio_port: int) -> Job:
    event_file = write_events(WORK / "worker-event.marshal", reply_job_event(round_number))
    result_file = WORK / "project.worker"
    port = [] if kind == "outbox" else [str(twilio_port)]
    started = time.perf_counter()
    run_project_driver("worker.py", [event_file, result_file, *port], env)
    wall = time.perf_counter() - started
    failed, handler_s, rest_s, job_s, peak = marshal.loads(result_file.read_bytes())
    return Job(
        failed,
        {
            "cold_ms": (wall * 1000) - bare_start("project", env),
            "import_handler_ms": handler_s * 1000,
            "import_rest_ms": rest_s * 1000,
            "first_job_ms": job_s * 1000,
            "peak_rss_mib": peak / 1024,
        },
    )


def measure_worker(rounds: int) -> WorkerFigures:
    """The worker's cold start on one later reply, each kind of run interleaved with the others."""
    results: dict[str, list[Job]] = {kind: [] for kind in WORKER_RUNS.values()}
    twilio = TwilioMessages()
    with moto_server() as endpoint, serving(twilio) as twilio_port:
        table = "idempotency"
        create_idempotency_table(endpoint, table)
        envs = {
            "outbox": environment(OUTBOX_FILE=str(WORK / "outbox.jsonl")),
            "deployed": environment(
                IDEMPOTENCY_TABLE=table, AWS_ENDPOINT_URL_DYNAMODB=endpoint, **AWS_CREDENTIALS
            ),
        }
        for round_number in range(rounds):
            for kind, env in envs.items():
                results[kind].append(run_worker(kind, round_number, env, twilio_port))
    report: WorkerFigures = {
        "failed": sum(job.failed for jobs in results.values() for job in jobs),
        "twilio_requests": len(twilio.requests),
        "twilio_requests_expected": rounds,
        "twilio_requests_right": sum(map(sent_right, twilio.requests)),
    }
    for label, kind in WORKER_RUNS.items():
        report[label] = medians([job.figures for job in results[kind]])
    return report


def sent_right(request: Request) -> bool:
    """Whether the request sends the later reply to `REPORT` as the worker should: to the
    account's Messages resource, to the sender."""
    form = request.data or {}
    return (
        urlsplit(request.url).path == MESSAGES_PATH
        and form.get("To") == SENDER
        and str(form.get("Body")).startswith("Your report:")
    )


def medians(runs: list[WorkerRun]) -> WorkerRun:
    return {
        "cold_ms": statistics.median(run["cold_ms"] for run in runs),
        "import_handler_ms": statistics.median(run["import_handler_ms"] for run in runs),
        "import_rest_ms": statistics.median(run["import_rest_ms"] for run in runs),
        "first_job_ms": statistics.median(run["first_job_ms"] for run in runs),
        "peak_rss_mib": statistics.median(run["peak_rss_mib"] for run in runs),
    }
