"""What a developer waits for, on the same machine as the rest of the benchmark."""

import re
import statistics
import subprocess
import time

from devtools.paths import PROJECT

JOURNEY_RUNS = 3


def measure_journey() -> dict[str, float]:
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
