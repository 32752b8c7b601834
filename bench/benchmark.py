"""Benchmark: the project against the floor and the Flask way, cold and warm, side by side.

    make bench          # python bench/benchmark.py: the full run (a minute or two), writes
                        # bench/results.json and docs/benchmark.md
    make bench-smoke    # correctness only: every contender answers the same events right

Contenders, each in its own virtualenv under .bench/ (bench/contenders.py builds them, from PyPI):
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
- timers: what setting a reminder costs (`send_text(..., at=...)`: one EventBridge Scheduler
  CreateSchedule, to a moto server on loopback), each call timed: median and 95th percentile;
  `--timers-only` measures it alone, into the results.json and docs/benchmark.md of the last run;
- with --before DIR, the project's cold start A/B against another checkout of it (the same
  virtualenv, interleaved): what a change costs the cold start;
- artifact sizes: the files each would deploy, unzipped and zipped.
Ratios are project/floor and project/flask, because this machine is noisy. What is measured is
in bench/webhook.py, later_replies.py, worker.py, timers.py and journey.py; bench/report.py
writes the tables.
"""

import argparse
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.contenders import CONTENDERS, WORK, environment, prepare, write_events  # noqa: E402
from bench.events import BODIES, TOKEN, worst_forged_events  # noqa: E402
from bench.journey import measure_journey  # noqa: E402
from bench.later_replies import measure_later  # noqa: E402
from bench.report import (  # noqa: E402
    AgainstBefore,
    Report,
    Results,
    before_table,
    caches_table,
    conversations_table,
    journey_table,
    later_table,
    machine,
    markdown,
    table,
    timers_table,
    worker_table,
)
from bench.timers import TimerFigures, measure_timers  # noqa: E402
from bench.webhook import (  # noqa: E402
    measure_caches,
    measure_contenders,
    measure_conversations,
    measure_ssm,
    ratios,
)
from bench.worker import measure_worker  # noqa: E402
from devtools.make_event import signed_event  # noqa: E402


def measure(rounds: int, loops: int, before: Path | None = None) -> Report:
    WORK.mkdir(exist_ok=True)
    for name, contender in CONTENDERS.items():
        prepare(name, contender, ["boto3"] if name == "project" else [])
    valid = [signed_event(body, token=TOKEN) for body in BODIES]
    forged = [signed_event(body, token="forged-" + TOKEN) for body in BODIES]
    one_event = write_events(WORK / "event.marshal", valid[0])
    contenders, before_figures = measure_contenders(
        one_event, valid, forged, rounds=rounds, loops=loops, before=before
    )
    env = environment()
    against_before: AgainstBefore = {} if before_figures is None else {"before": before_figures}
    return {
        "machine": machine(),
        "rounds": rounds,
        "loops": loops,
        "contenders": contenders,
        "project_token_in_ssm": measure_ssm(one_event, rounds),
        "ratios": ratios(contenders),
        **against_before,
        "later_replies": measure_later(rounds, loops),
        "worker": measure_worker(rounds),
        "timers": measure_timers(rounds, loops),
        "caches": measure_caches(valid, forged, loops, env),
        "conversations": measure_conversations(loops, env),
    }


def smoke() -> None:
    """Every contender answers the benchmark's events as it should: 200 signed, 403 forged."""
    check(measure(rounds=1, loops=1))
    print(
        "benchmark smoke: every contender answers 200 to signed events and 403 to forged ones; "
        "later replies are queued, and the worker sends each once; each reminder set is a schedule"
    )


def check(report: Report) -> None:
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
    check_timers(report["timers"])


def check_timers(timers: TimerFigures) -> None:
    if timers["schedules"] != timers["calls"]:
        raise SystemExit(f"{timers['calls']} reminders set, {timers['schedules']} schedules")


def timers_only(rounds: int, loops: int, output: Path, markdown_file: Path) -> None:
    """The timers measured again, the rest of the last run's figures kept as they are."""
    WORK.mkdir(exist_ok=True)
    prepare("project", CONTENDERS["project"], ["boto3"])
    results: Results = json.loads(output.read_text())
    results["timers"] = measure_timers(rounds, loops)
    check_timers(results["timers"])
    output.write_text(json.dumps(results, indent=2) + "\n")
    markdown_file.write_text(markdown(results))
    print(f"{timers_table(results)}\nwritten to {output}, {markdown_file}")


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
    parser.add_argument(
        "--timers-only",
        action="store_true",
        help="measure the timers alone, into the results.json and markdown of the last run",
    )
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return
    if args.timers_only:
        timers_only(args.rounds, args.loops, args.output, args.markdown)
        return
    report = measure(args.rounds, args.loops, args.before)
    check(report)
    results: Results = {**report, "journey": measure_journey()}
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.markdown.write_text(markdown(results))
    print(f"{table(report)}\n\n{caches_table(report)}\n\n{conversations_table(report)}")
    print(f"\n{later_table(report)}\n\n{worker_table(report)}")
    if args.before:
        print(f"\n{before_table(report)}")
    print(f"\n{journey_table(results['journey'])}")
    print(f"\n{json.dumps(report['ratios'], indent=2)}\nwritten to {args.output}, {args.markdown}")


if __name__ == "__main__":
    main()
