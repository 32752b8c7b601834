"""`make run` as a person runs it: real processes, on a copy of the project a test may edit.

The server is started in a session of its own, as a terminal starts a command, so that a test
can send Ctrl-C's SIGINT to its whole process group, and so that nothing it started outlives
the test.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

PROJECT = Path(__file__).resolve().parents[2]
RUNTIME_FILES = ("handler.py", "replies.py", "env.json", "devtools", "sms_webhook")
"""What `make run` needs: the function and the development tools."""
WAIT_SECONDS = 20
"""How long to wait for the server to print a line before the test fails."""


OUTER_MAKE = frozenset({"MAKELEVEL", "MAKEFLAGS", "MFLAGS"})
"""What an outer make (`make test`) passes down; a user's shell has none of it (and a tool that
finds `MAKELEVEL` speaks of make targets: devtools/commands.py)."""


def without_make(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment as a user's shell has it, without what an outer make put in it."""
    return {name: value for name, value in environment.items() if name not in OUTER_MAKE}


def copy_of_project(directory: Path) -> Path:
    for name in RUNTIME_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, directory / name)
    return directory


class RunningServer:
    """`python -m devtools.serve --port 0` (and more `arguments`) running in `project`, its
    output collected by line."""

    def __init__(self, project: Path, *arguments: str):
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.serve", "--port", "0", *arguments],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None  # a pipe, as asked
        self._output: IO[str] = self.process.stdout
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self._collector = threading.Thread(target=self._collect, daemon=True)
        self._collector.start()
        try:
            self.port = int(self.wait_for(r"listening on http://127\.0\.0\.1:(\d+)/sms")[1])
            self.printed_pid = int(self.wait_for(r"kill (\d+)")[1])
        except AssertionError:
            self.close()
            raise

    def _collect(self) -> None:
        for line in self._output:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def mark(self) -> int:
        """Where the output stands now: `wait_for(..., after=mark)` looks only at what follows."""
        with self._new_line:
            return len(self.lines)

    def wait_for(self, pattern: str, after: int = 0) -> re.Match[str]:
        """The first line printed since `after` that matches; the test fails if none comes."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._new_line:
            while True:
                for line in self.lines[after:]:
                    if match := re.search(pattern, line):
                        return match
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no line matches {pattern!r}:\n{self.output}"
                self._new_line.wait(remaining)

    def edit(self, name: str, old: str, new: str) -> None:
        """Replace text in one of the project's files, as an editor saves it."""
        path = self.project / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    def close(self) -> None:
        """Stop whatever is left of the process group, whatever the test did."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._collector.join(WAIT_SECONDS)  # the output ends once every process is gone
        self._output.close()


def group_is_gone(process_group: int) -> bool:
    """Whether no process of the group is left."""
    try:
        os.killpg(process_group, 0)
    except ProcessLookupError:
        return True
    return False


def eventually(condition: Callable[[], object], seconds: float = WAIT_SECONDS) -> bool:
    """Whether `condition()` holds within `seconds` (checked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def nothing_listens(port: int) -> bool:
    """Whether connecting to 127.0.0.1:`port` is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
