"""What a developer waits for, on the same machine as the rest of the benchmark."""

import re
import statistics
import subprocess
import time

from devtools.paths import PROJECT

JOURNEY_RUNS = 3
JOURNEY_TESTS = "tests/test_replies.py"
"""What the journey tests after an edit of replies.py: that file's tests, as a developer runs them
between edits (the artifacts rebuilt first), not the whole suite."""
JOURNEY_TIMEOUT = 600
"""Seconds a step of the journey may take before the benchmark stops, naming the step."""


def measure_journey() -> dict[str, float]:
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
