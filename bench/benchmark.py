"""Benchmark: the project against the floor and the Flask way, cold and warm, side by side.

    make bench          # python bench/benchmark.py: the full run (a minute or two), writes
                        # bench/results.json and docs/benchmark.md
    make bench-smoke    # correctness only: every contender answers the same events right

Contenders, each in its own virtualenv under .bench/ (built here, from PyPI):
- project: this repository's handler.lambda_handler, with requirements.txt;
- floor: bench/references/floor, the cheapest correct handler, standard library only;
- flask: bench/references/flask, Twilio's Flask tutorial app through apig-wsgi.

Measured in fresh processes (bench/drivers/), interleaved (A B C A B C ...), medians of the rounds:
- cold: wall time of a process that imports the handler and answers one signed event, minus the
  wall time of a bare interpreter; the import alone; the peak RSS of that process (VmHWM);
- warm: microseconds per invocation for signed POST events with varying bodies, and for forged
  ones, in a process that has answered each event once; and, for the project, each of the forged
  requests that cost it the most (at its size and field limits), against the normal forged one;
- the project's cold start with its token in SSM (a moto server on loopback stands in for SSM);
- later replies: what a handler that runs later adds to the webhook's answer (one SQS send, and
  on the first, making the SQS client; a moto server's queue on loopback), and the worker's cold
  start on one job: its texts into the local outbox, or through twilio's REST client to a fake of
  Twilio's Messages API on loopback, with and without each send recorded once in DynamoDB (moto);
- with --before DIR, the project's cold start A/B against another checkout of it (the same
  virtualenv, interleaved): what a change costs the cold start;
- artifact sizes: the files each would deploy, unzipped and zipped.
Ratios are project/floor and project/flask, because this machine is noisy.
"""

import argparse
import contextlib
import io
import json
import marshal
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from devtools.make_event import API_DOMAIN, STAGE_PATH, signed_event  # noqa: E402
from devtools.proxy_events import Target, rest_event  # noqa: E402
from devtools.queue_events import sqs_event  # noqa: E402
from devtools.twilio_message import (  # noqa: E402
    ACCOUNT_SID,
    SENDER,
    form_encode,
    largest_message_fields,
    message_fields,
    twilio_signature,
)
from sms_webhook.form import MAX_FIELDS, MAX_FORM_SIZE, MAX_QUERY_SIZE  # noqa: E402
from sms_webhook.proxy_event import MAX_ENTRIES  # noqa: E402

WORK = PROJECT / ".bench"
REFERENCES = PROJECT / "bench" / "references"
TOKEN = "benchmark-token-0123456789abcdef"  # signs the benchmark's events only
TOKEN_PARAMETER = "/twilio/auth-token"  # where the project reads it from, in the SSM run
CONTENDERS = {
    "project": {"code": PROJECT, "module": "handler", "requirements": PROJECT / "requirements.txt"},
    "floor": {"code": REFERENCES / "floor", "module": "handler", "requirements": None},
    "flask": {
        "code": REFERENCES / "flask",
        "module": "app",
        "requirements": REFERENCES / "flask" / "requirements.txt",
    },
}
BODIES = [
    "Hi!",
    "Are you free for a quest today?",
    "こんにちは、元気ですか",
    "Meet me at the tavern at 7 🍺",
    "x" * 160,
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 4,
    "ok",
    "Can you send the map? The old one, with the dragon's lair marked on it.",
]

DRIVERS = PROJECT / "bench" / "drivers"
"""The scripts each measuring process runs, with the contender's interpreter in its folder."""


def venv_python(name: str) -> Path:
    return WORK / name / "bin" / "python"


def prepare(name: str, spec: dict, extra: list[str]) -> None:
    """Make the contender's virtualenv with its dependencies (once)."""
    python = venv_python(name)
    stamp = WORK / name / ".ready"
    if stamp.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(WORK / name)], check=True)
    packages = ["-r", str(spec["requirements"])] if spec["requirements"] else []
    if packages or extra:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *packages, *extra], check=True
        )
    stamp.touch()


def run_cold(name: str, events_file: Path, environment: dict, code: Path | None = None) -> dict:
    """A cold start of the contender, or with `code`, of that checkout of it in its virtualenv."""
    spec = CONTENDERS[name]
    result_file = WORK / f"{name}{'-other' if code else ''}.cold"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(venv_python(name)), DRIVERS / "cold.py", spec["module"], events_file, result_file],
        cwd=code or spec["code"],
        env=environment,
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
    }


def bare_start(name: str, environment: dict) -> float:
    started = time.perf_counter()
    subprocess.run([str(venv_python(name)), "-c", "pass"], env=environment, check=True)
    return (time.perf_counter() - started) * 1000


def run_warm(name: str, events_file: Path, environment: dict) -> dict:
    spec = CONTENDERS[name]
    result_file = WORK / f"{name}.warm"
    subprocess.run(
        [str(venv_python(name)), DRIVERS / "warm.py", spec["module"], events_file, result_file],
        cwd=spec["code"],
        env=environment,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    statuses, valid_us, forged_us, worst_us = marshal.loads(result_file.read_bytes())
    return {"statuses": statuses, "valid_us": valid_us, "forged_us": forged_us, "worst": worst_us}


def artifact_sizes(name: str) -> dict:
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
            spec = CONTENDERS[name]
            shutil.copy(spec["code"] / f"{spec['module']}.py", target)
            if spec["requirements"]:
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
                        str(spec["requirements"]),
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


def write_events(path: Path, payload) -> Path:
    path.write_bytes(marshal.dumps(payload))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "POWERTOOLS_SERVICE_NAME": "twilio-sms-webhook",
        "AWS_DEFAULT_REGION": "us-east-1",
        **extra,
    }


def median(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def worst_forged_events() -> dict[str, dict]:
    """Forged requests that cost the project the most to refuse: each as large as its limits
    allow, in the shape that costs most to read (percent escapes, many fields, many headers, a
    GET whose query is re-encoded), and Twilio's largest real request, forged."""
    url = f"https://{API_DOMAIN}{STAGE_PATH}"
    target = Target(API_DOMAIN, "/sms", STAGE_PATH)
    largest = largest_message_fields()
    escapes_per_field = MAX_FORM_SIZE // MAX_FIELDS // 3 - 2
    bodies = {
        "escapes": "Body=" + "%F0%9F%98%80" * ((MAX_FORM_SIZE - 5) // 12),
        "short escape runs": "Body=" + "a%41" * ((MAX_FORM_SIZE - 5) // 4),
        "most fields, all escaped": "&".join(
            f"F%{n:02X}=" + "%41" * escapes_per_field for n in range(MAX_FIELDS)
        ),
        "largest real request": form_encode(largest),
    }
    headers = [
        ("Host", API_DOMAIN),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Twilio-Signature", twilio_signature(url, largest, "not-the-token")),
    ]
    events = {
        name: rest_event("POST", target, headers=headers, body=body.encode(), base64_body=True)
        for name, body in bodies.items()
    }
    most_headers = [(f"X-Header-{n}", "x" * 50) for n in range(MAX_ENTRIES - len(headers))]
    events["most headers"] = rest_event(
        "POST",
        target,
        headers=[*headers, *most_headers],
        body=bodies["largest real request"].encode(),
        base64_body=True,
    )
    query = form_encode([("Body", "語" * ((MAX_QUERY_SIZE - 6) // 9))])  # 9 characters encoded
    events["GET of the longest query"] = rest_event("GET", target, headers=headers, query=query)
    every_way = "' :*"  # each of the query strings tried differs (sms_webhook/urls.py)
    text = every_way + "語" * ((MAX_QUERY_SIZE - 6 - len(every_way)) // 9)
    query = form_encode([("Body", text)])
    events["GET of the longest query, written 5 ways"] = rest_event(
        "GET", target, headers=headers, query=query
    )
    return events


def measure(rounds: int, loops: int, before: Path | None = None) -> dict:
    WORK.mkdir(exist_ok=True)
    for name, spec in CONTENDERS.items():
        prepare(name, spec, ["boto3"] if name == "project" else [])
    valid = [signed_event(body, token=TOKEN) for body in BODIES]
    forged = [signed_event(body, token="forged-" + TOKEN) for body in BODIES]
    one_event = write_events(WORK / "event.marshal", valid[0])
    warm_events = {
        name: write_events(
            WORK / f"{name}-warm.marshal",
            (valid, forged, worst_forged_events() if name == "project" else {}, loops),
        )
        for name in CONTENDERS
    }
    env = environment()

    cold: dict[str, list] = {name: [] for name in CONTENDERS}
    warm: dict[str, list] = {name: [] for name in CONTENDERS}
    before_cold: list[dict] = []
    for _ in range(rounds):
        for name in CONTENDERS:
            bare = bare_start(name, env)
            result = run_cold(name, one_event, env)
            result["cold_ms"] = result["wall_ms"] - bare
            cold[name].append(result)
        if before:
            bare = bare_start("project", env)
            result = run_cold("project", one_event, env, code=before)
            result["cold_ms"] = result["wall_ms"] - bare
            before_cold.append(result)
    for _ in range(max(1, rounds // 3)):
        for name in CONTENDERS:
            warm[name].append(run_warm(name, warm_events[name], env))

    report = {"machine": machine(), "rounds": rounds, "loops": loops, "contenders": {}}
    for name in CONTENDERS:
        statuses = {r["status"] for r in cold[name]} | {
            s for w in warm[name] for s in w["statuses"]
        }
        report["contenders"][name] = {
            "answers": sorted(statuses),
            "cold_ms": median(cold[name], "cold_ms"),
            "import_ms": median(cold[name], "import_ms"),
            "first_answer_ms": median(cold[name], "first_answer_ms"),
            "peak_rss_mib": median(cold[name], "peak_rss_mib"),
            "warm_valid_us": median(warm[name], "valid_us"),
            "warm_forged_us": median(warm[name], "forged_us"),
            "worst_forged_us": {
                kind: statistics.median(w["worst"][kind] for w in warm[name])
                for kind in warm[name][0]["worst"]
            },
            "artifact": artifact_sizes(name),
        }
    report["project_token_in_ssm"] = measure_ssm(one_event, rounds)
    report["ratios"] = ratios(report["contenders"])
    if before:
        report["before"] = {
            "checkout": str(before),
            "answers": sorted({r["status"] for r in before_cold}),
            **{key: median(before_cold, key) for key in ("cold_ms", "import_ms", "peak_rss_mib")},
        }
    report["later_replies"] = measure_later(rounds, loops)
    report["worker"] = measure_worker(rounds)
    report["caches"] = measure_caches(valid, forged, loops, env)
    report["conversations"] = measure_conversations(loops, env)
    return report


def run_project_driver(driver: str, arguments: list, env: dict) -> None:
    """Run one of bench/drivers/ with the project's interpreter, in the project's folder."""
    subprocess.run(
        [str(venv_python("project")), DRIVERS / driver, *arguments],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def measure_conversations(loops: int, env: dict) -> dict:
    """Warm µs per message with no conversation, one a test reads, one read and written."""
    result_file = WORK / "project.conversations"
    run_project_driver("conversation.py", [str(loops), result_file], env)
    return marshal.loads(result_file.read_bytes())


def measure_caches(valid: list[dict], forged: list[dict], loops: int, env: dict) -> dict:
    """Warm µs per valid and forged event with each of the project's caches taken away."""
    events = write_events(WORK / "caches.marshal", (valid, forged, loops))
    result_file = WORK / "project.caches"
    run_project_driver("caches.py", [events, result_file], env)
    return {
        name: {"valid_us": valid_us, "forged_us": forged_us}
        for name, (valid_us, forged_us) in marshal.loads(result_file.read_bytes()).items()
    }


JOURNEY_RUNS = 3
JOURNEY_TESTS = "tests/test_replies.py"
"""What the journey tests after an edit of replies.py: that file's tests, as a developer runs them
between edits (the artifacts rebuilt first), not the whole suite."""
JOURNEY_TIMEOUT = 600
"""Seconds a step of the journey may take before the benchmark stops, naming the step."""


def measure_journey() -> dict:
    """How long a developer waits: `make build` and `make test TESTS=...` after an edit of
    replies.py, and `make invoke`'s cold and warm invocations (as devtools.invoke reports them)."""
    replies = PROJECT / "replies.py"

    def after_an_edit(*command: str) -> float:
        replies.touch()
        started = time.perf_counter()
        done = subprocess.run(
            ["make", "--no-print-directory", *command],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=JOURNEY_TIMEOUT,
            check=False,
        )
        took = time.perf_counter() - started
        if done.returncode != 0:
            output = f"{done.stdout[-3000:]}{done.stderr}"
            raise SystemExit(f"make {' '.join(command)} failed:\n{output}")
        return took

    build = statistics.median(after_an_edit("build") for _ in range(JOURNEY_RUNS))
    test = after_an_edit("test", f"TESTS={JOURNEY_TESTS}")
    runtime = PROJECT / ".venv" / "lambda-runtime"
    invoked = subprocess.run(
        [
            *(str(PROJECT / ".venv" / "bin" / "python"), "-m", "devtools.invoke"),
            *("events/sms.json", "--runtime-dir", str(runtime), "--repeat", "5"),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    times = [float(ms) for ms in re.findall(r"\): ([0-9.]+) ms", invoked)]
    return {
        "build_after_edit_s": build,
        "test_after_edit_s": test,
        "invoke_cold_ms": times[0],
        "invoke_warm_ms": statistics.median(times[1:]),
    }


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on loopback, for every AWS service the project calls: its endpoint."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
"""What boto3 signs its requests to the moto server with."""


def aws_client(service: str, endpoint: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def measure_ssm(event_file: Path, rounds: int) -> dict:
    """The project's cold start when its token comes from SSM (moto's server on loopback)."""
    with moto_server() as endpoint:
        aws_client("ssm", endpoint).put_parameter(
            Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString"
        )
        env = environment(
            TWILIO_AUTH_TOKEN="",
            TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER,
            AWS_ENDPOINT_URL_SSM=endpoint,
            **AWS_CREDENTIALS,
        )
        results = []
        for _ in range(rounds):
            bare = bare_start("project", env)
            result = run_cold("project", event_file, env)
            result["cold_ms"] = result["wall_ms"] - bare
            results.append(result)
    return {
        "answers": sorted({r["status"] for r in results}),
        "cold_ms": median(results, "cold_ms"),
        "first_answer_ms": median(results, "first_answer_ms"),
        "peak_rss_mib": median(results, "peak_rss_mib"),
    }


LATER_BODIES = ["REPORT", "report please"]
"""Texts the shipped replies.py answers later (its `REPORT` example)."""
LATER_ROUTE = "replies.report"
"""That handler's name, by which the worker finds it."""


def create_idempotency_table(dynamodb: object, name: str) -> None:
    dynamodb.create_table(  # type: ignore[attr-defined]  # boto3's clients are untyped
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def messages_each_loop(bodies: list[str], loops: int) -> list[list[dict]]:
    """Signed events of these texts, new ones for each loop (and one more for the cold start):
    with deduplication on, a message seen before would be answered from its record."""
    return [[signed_event(f"{body} {n}", token=TOKEN) for body in bodies] for n in range(loops + 1)]


def measure_later(rounds: int, loops: int) -> dict:
    """What a handler that runs later adds to the webhook's answer, in fresh processes sending to
    a queue of a moto server on loopback: warm, one SQS send; the first, making the client. Both
    kinds of message are deduplicated in a table of the same server, as a stack with a queue
    always does: the difference is the send.

    Each process has a queue and a table of its own, and a tenth of the loops: moto's SendMessage
    takes longer the more messages its queue holds (7 ms at first, 14 ms after 400, here)."""
    loops = max(1, loops // 10)
    later = messages_each_loop(LATER_BODIES, loops)
    ordinary = messages_each_loop(BODIES, loops)
    events = write_events(WORK / "later.marshal", (ordinary, later))
    result_file = WORK / "project.later"
    results, queued = [], 0
    with moto_server() as endpoint:
        sqs = aws_client("sqs", endpoint)
        dynamodb = aws_client("dynamodb", endpoint)
        for process in range(max(1, rounds // 3)):
            queue = sqs.create_queue(QueueName=f"later-replies-{process}")["QueueUrl"]
            table = f"idempotency-{process}"
            create_idempotency_table(dynamodb, table)
            env = environment(
                LATER_QUEUE_URL=queue,
                AWS_ENDPOINT_URL_SQS=endpoint,
                IDEMPOTENCY_TABLE=table,
                AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                **AWS_CREDENTIALS,
            )
            run_project_driver("later.py", [events, result_file], env)
            results.append(marshal.loads(result_file.read_bytes()))
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            queued += int(attributes["ApproximateNumberOfMessages"])
    ordinary_ms = statistics.median(r[2] for r in results)
    later_ms = statistics.median(r[3] for r in results)
    first_later_ms = statistics.median(r[1] for r in results)
    return {
        "answers": sorted({status for r in results for status in r[0]}),
        "queued": queued,
        "later_answered": len(results) * (1 + loops * len(LATER_BODIES)),
        "loops": loops,
        "ordinary_ms": ordinary_ms,
        "later_ms": later_ms,
        "first_later_ms": first_later_ms,
        "added_ms": later_ms - ordinary_ms,
        "first_added_ms": first_later_ms - ordinary_ms,
    }


class FakeMessagesApi(BaseHTTPRequestHandler):
    """Twilio's Messages resource on loopback: each POST recorded and answered as Twilio answers
    a message it took (201, the message resource)."""

    server: "FakeTwilio"

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.received.append((self.path, {name: values[0] for name, values in form.items()}))
        resource = json.loads(MESSAGE_RESOURCE.read_text())
        sid = f"SM{len(self.server.received):032x}"
        answer = json.dumps({**resource, "sid": sid, "to": form["To"][0], "body": form["Body"][0]})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *_: object) -> None:
        """Quiet: the benchmark prints only its tables."""


class FakeTwilio(ThreadingHTTPServer):
    received: list[tuple[str, dict[str, str]]]


MESSAGE_RESOURCE = PROJECT / "tests" / "twilio_api_responses" / "message.json"
"""A message resource as Twilio's API returns it (the tests' recording of it)."""


@contextlib.contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(("127.0.0.1", 0), FakeMessagesApi)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def reply_job_event(round_number: int) -> dict:
    """The SQS event of one later reply to `REPORT`, as the webhook queues it; a message of its
    own each round, so that the worker's records of earlier rounds do not answer for it."""
    fields = message_fields("REPORT", sid=f"SM{round_number:032x}")
    job = {
        "job": "reply",
        "route": LATER_ROUTE,
        "fields": [list(pair) for pair in fields],
        "status_callback": f"https://{API_DOMAIN}/Prod/status",
    }
    return sqs_event([json.dumps(job)])


WORKER_RUNS = {
    "texts into the local outbox (a local run)": "outbox",
    "texts through twilio's REST client, each run and send recorded once (DynamoDB)": "deployed",
}


def run_worker(kind: str, round_number: int, env: dict, twilio_port: int) -> dict:
    event_file = write_events(WORK / "worker-event.marshal", reply_job_event(round_number))
    result_file = WORK / "project.worker"
    port = [] if kind == "outbox" else [str(twilio_port)]
    started = time.perf_counter()
    run_project_driver("worker.py", [event_file, result_file, *port], env)
    wall = time.perf_counter() - started
    failed, handler_s, rest_s, job_s, peak = marshal.loads(result_file.read_bytes())
    return {
        "failed": failed,
        "cold_ms": (wall * 1000) - bare_start("project", env),
        "import_handler_ms": handler_s * 1000,
        "import_rest_ms": rest_s * 1000,
        "first_job_ms": job_s * 1000,
        "peak_rss_mib": peak / 1024,
    }


def measure_worker(rounds: int) -> dict:
    """The worker's cold start on one later reply, each kind of run interleaved with the others."""
    results: dict[str, list[dict]] = {kind: [] for kind in WORKER_RUNS.values()}
    with moto_server() as endpoint, fake_twilio() as twilio:
        table = "idempotency"
        create_idempotency_table(aws_client("dynamodb", endpoint), table)
        envs = {
            "outbox": environment(OUTBOX_FILE=str(WORK / "outbox.jsonl")),
            "deployed": environment(
                IDEMPOTENCY_TABLE=table, AWS_ENDPOINT_URL_DYNAMODB=endpoint, **AWS_CREDENTIALS
            ),
        }
        for round_number in range(rounds):
            for kind, env in envs.items():
                results[kind].append(run_worker(kind, round_number, env, twilio.server_port))
        sent = [(path, form["To"], form["Body"]) for path, form in twilio.received]
    expected = (f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", SENDER)
    report = {
        "failed": sum(r["failed"] for runs in results.values() for r in runs),
        "twilio_requests": len(sent),
        "twilio_requests_expected": rounds,
        "twilio_requests_right": sum(
            (path, to) == expected and body.startswith("Your report:") for path, to, body in sent
        ),
    }
    for label, kind in WORKER_RUNS.items():
        report[label] = {
            key: median(results[kind], key) for key in results[kind][0] if key != "failed"
        }
    return report


def ratios(contenders: dict) -> dict:
    project = contenders["project"]
    found = {}
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


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }


def table(report: dict) -> str:
    c = report["contenders"]
    r = report["ratios"]
    rows = [
        ("cold start (ms, minus bare interpreter)", "cold_ms", "cold", "{:.1f}"),
        ("warm valid request (µs)", "warm_valid_us", "warm_valid", "{:.1f}"),
        ("warm forged request (µs)", "warm_forged_us", "warm_forged", "{:.1f}"),
        ("peak RSS (MiB)", "peak_rss_mib", "peak_rss", "{:.1f}"),
    ]
    lines = [
        "| metric | project | floor | flask | project/floor | project/flask |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, key, ratio, fmt in rows:
        values = " | ".join(fmt.format(c[name][key]) for name in ("project", "floor", "flask"))
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


def caches_table(report: dict) -> str:
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


def conversations_table(report: dict) -> str:
    cases = report["conversations"]
    plain = cases["no conversation (HOURS)"]
    lines = ["| message | µs | more than with no conversation |", "|---|---:|---:|"]
    for case, micros in cases.items():
        lines.append(f"| {case} | {micros:.1f} | {micros - plain:+.1f} |")
    return "\n".join(lines)


def later_table(report: dict) -> str:
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


def worker_table(report: dict) -> str:
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


def before_table(report: dict) -> str:
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


def journey_table(journey: dict) -> str:
    return "\n".join(
        [
            "| step | time |",
            "|---|---:|",
            f"| `make build` after an edit of replies.py (median of {JOURNEY_RUNS}) | "
            f"{journey['build_after_edit_s']:.1f} s |",
            f"| `make test TESTS={JOURNEY_TESTS}` after an edit of replies.py | "
            f"{journey['test_after_edit_s']:.1f} s |",
            f"| `make invoke`, cold invocation | {journey['invoke_cold_ms']:.0f} ms |",
            f"| `make invoke`, warm invocation | {journey['invoke_warm_ms']:.1f} ms |",
        ]
    )


def markdown(report: dict) -> str:
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
        "What a handler registered with `later=` (the shipped `REPORT`) adds to the webhook's "
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
        f"{before_section(report)}"
        "## The journey\n\n"
        "What a developer waits for, on the same machine:\n\n"
        f"{journey_table(report['journey'])}\n"
    )


def before_section(report: dict) -> str:
    if "before" not in report:
        return ""
    return (
        "## Against the checkout before\n\n"
        "The project's cold start, token in the environment, against another checkout of it "
        "(`--before`), the same virtualenv, interleaved, the median of "
        f"{report['rounds']} processes each:\n\n{before_table(report)}\n\n"
    )


def smoke() -> None:
    """Every contender answers the benchmark's events as it should: 200 signed, 403 forged."""
    check(measure(rounds=1, loops=1))
    print(
        "benchmark smoke: every contender answers 200 to signed events and 403 to forged ones; "
        "later replies are queued, and the worker sends each once"
    )


def check(report: dict) -> None:
    """Figures are only worth what was measured: each answer right, each job queued and sent."""
    expected = [200, 403]
    if len(report["contenders"]["project"]["worst_forged_us"]) != len(worst_forged_events()):
        raise SystemExit("the project did not answer every worst forged request")
    for name, result in report["contenders"].items():
        if result["answers"] != expected:
            raise SystemExit(f"{name} answered {result['answers']}, expected {expected}")
    if report["project_token_in_ssm"]["answers"] != [200]:
        raise SystemExit("the project with its token in SSM did not answer 200")
    later = report["later_replies"]
    if later["answers"] != [200] or later["queued"] != later["later_answered"]:
        raise SystemExit(f"later replies: {later['queued']} queued of {later['later_answered']}")
    worker = report["worker"]
    if worker["failed"] or worker["twilio_requests_right"] != worker["twilio_requests_expected"]:
        raise SystemExit(f"the worker did not send each later reply right once: {worker}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="correctness only, no timings")
    parser.add_argument("--output", type=Path, default=PROJECT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=PROJECT / "docs" / "benchmark.md")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout of the project (a copy of main): its cold start, A/B",
    )
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return
    report = measure(args.rounds, args.loops, args.before)
    check(report)
    report["journey"] = measure_journey()
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    args.markdown.write_text(markdown(report))
    print(f"{table(report)}\n\n{caches_table(report)}\n\n{conversations_table(report)}")
    print(f"\n{later_table(report)}\n\n{worker_table(report)}")
    if args.before:
        print(f"\n{before_table(report)}")
    print(f"\n{journey_table(report['journey'])}")
    print(f"\n{json.dumps(report['ratios'], indent=2)}\nwritten to {args.output}, {args.markdown}")


if __name__ == "__main__":
    main()
