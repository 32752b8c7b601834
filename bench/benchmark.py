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
- artifact sizes: the files each would deploy, unzipped and zipped.
Ratios are project/floor and project/flask, because this machine is noisy.
"""

import argparse
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
import time
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from devtools.make_event import API_DOMAIN, STAGE_PATH, signed_event  # noqa: E402
from devtools.proxy_events import Target, rest_event  # noqa: E402
from devtools.twilio_message import (  # noqa: E402
    form_encode,
    largest_message_fields,
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


def run_cold(name: str, events_file: Path, environment: dict) -> dict:
    spec = CONTENDERS[name]
    result_file = WORK / f"{name}.cold"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(venv_python(name)), DRIVERS / "cold.py", spec["module"], events_file, result_file],
        cwd=spec["code"],
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
    return events


def measure(rounds: int, loops: int) -> dict:
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
    for _ in range(rounds):
        for name in CONTENDERS:
            bare = bare_start(name, env)
            result = run_cold(name, one_event, env)
            result["cold_ms"] = result["wall_ms"] - bare
            cold[name].append(result)
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
    report["caches"] = measure_caches(valid, forged, loops, env)
    report["conversations"] = measure_conversations(loops, env)
    return report


def measure_conversations(loops: int, env: dict) -> dict:
    """Warm µs per message with no conversation, one a test reads, one read and written."""
    result_file = WORK / "project.conversations"
    subprocess.run(
        [str(venv_python("project")), DRIVERS / "conversation.py", str(loops), result_file],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return marshal.loads(result_file.read_bytes())


def measure_caches(valid: list[dict], forged: list[dict], loops: int, env: dict) -> dict:
    """Warm µs per valid and forged event with each of the project's caches taken away."""
    events = write_events(WORK / "caches.marshal", (valid, forged, loops))
    result_file = WORK / "project.caches"
    subprocess.run(
        [str(venv_python("project")), DRIVERS / "caches.py", events, result_file],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return {
        name: {"valid_us": valid_us, "forged_us": forged_us}
        for name, (valid_us, forged_us) in marshal.loads(result_file.read_bytes()).items()
    }


JOURNEY_RUNS = 3


def measure_journey() -> dict:
    """How long a developer waits: `make build` and `make test` after an edit of replies.py,
    and `make invoke`'s cold and warm invocations (as devtools.invoke reports them)."""
    replies = PROJECT / "replies.py"

    def after_an_edit(*command: str) -> float:
        replies.touch()
        started = time.perf_counter()
        subprocess.run(
            ["make", "--no-print-directory", *command],
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        return time.perf_counter() - started

    build = statistics.median(after_an_edit("build") for _ in range(JOURNEY_RUNS))
    test = after_an_edit("test")
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


def measure_ssm(event_file: Path, rounds: int) -> dict:
    """The project's cold start when its token comes from SSM (moto's server on loopback)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        boto3.client(
            "ssm",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).put_parameter(Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString")
        env = environment(
            TWILIO_AUTH_TOKEN="",
            TWILIO_AUTH_TOKEN_PARAMETER=TOKEN_PARAMETER,
            AWS_ENDPOINT_URL_SSM=endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
        )
        results = []
        for _ in range(rounds):
            bare = bare_start("project", env)
            result = run_cold("project", event_file, env)
            result["cold_ms"] = result["wall_ms"] - bare
            results.append(result)
    finally:
        server.stop()
    return {
        "answers": sorted({r["status"] for r in results}),
        "cold_ms": median(results, "cold_ms"),
        "first_answer_ms": median(results, "first_answer_ms"),
        "peak_rss_mib": median(results, "peak_rss_mib"),
    }


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


def journey_table(journey: dict) -> str:
    return "\n".join(
        [
            "| step | time |",
            "|---|---:|",
            f"| `make build` after an edit of replies.py (median of {JOURNEY_RUNS}) | "
            f"{journey['build_after_edit_s']:.1f} s |",
            f"| `make test` after an edit of replies.py | {journey['test_after_edit_s']:.0f} s |",
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
        "## The journey\n\n"
        "What a developer waits for, on the same machine:\n\n"
        f"{journey_table(report['journey'])}\n"
    )


def smoke() -> None:
    """Every contender answers the benchmark's events as it should: 200 signed, 403 forged."""
    report = measure(rounds=1, loops=1)
    expected = [200, 403]
    if len(report["contenders"]["project"]["worst_forged_us"]) != len(worst_forged_events()):
        raise SystemExit("the project did not answer every worst forged request")
    for name, result in report["contenders"].items():
        if result["answers"] != expected:
            raise SystemExit(f"{name} answered {result['answers']}, expected {expected}")
    if report["project_token_in_ssm"]["answers"] != [200]:
        raise SystemExit("the project with its token in SSM did not answer 200")
    print("benchmark smoke: every contender answers 200 to signed events and 403 to forged ones")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="correctness only, no timings")
    parser.add_argument("--output", type=Path, default=PROJECT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=PROJECT / "docs" / "benchmark.md")
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return
    report = measure(args.rounds, args.loops)
    report["journey"] = measure_journey()
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    args.markdown.write_text(markdown(report))
    print(f"{table(report)}\n\n{caches_table(report)}\n\n{conversations_table(report)}")
    print(f"\n{journey_table(report['journey'])}")
    print(f"\n{json.dumps(report['ratios'], indent=2)}\nwritten to {args.output}, {args.markdown}")


if __name__ == "__main__":
    main()
