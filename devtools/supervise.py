"""`make run` restarts its server when the code changes, and stops it whole.

The server runs in a child process, a fresh interpreter that imports the function anew each time
it starts. The supervisor polls the modification times of the watched files twice a second (the
standard library has no portable change notification, and a stat of some twenty files costs
next to nothing) and on a change stops the child and starts another. A child whose code cannot be
imported (a syntax error in replies.py) prints why and answers every request 500 with it
(devtools/serve.py); a child that stopped is said to have, and the supervisor waits for the next
change.

Ctrl-C, SIGTERM or SIGHUP stop the supervisor, which stops the child first. Should the supervisor
die without a chance to (SIGKILL), the child sees the pipe on its stdin close and exits (the
server's side of this is in serve.py): nothing is left listening.
"""

import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

POLL_SECONDS = 0.5
STOP_SECONDS = 5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Stamps = dict[Path, tuple[int, int]]
"""Each file's modification time (ns) and size."""


def stamps(paths: Iterable[Path]) -> Stamps:
    """What the files look like now; a file that does not exist is left out."""
    found = {}
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        found[path] = (status.st_mtime_ns, status.st_size)
    return found


def changed(before: Stamps, after: Stamps) -> list[Path]:
    """The files written, created or removed in between, in path order."""
    paths = before.keys() | after.keys()
    return sorted(path for path in paths if before.get(path) != after.get(path))


def supervise(
    start: Callable[[], subprocess.Popen[bytes]],
    watched: Callable[[], Iterable[Path]],
    root: Path,
    started: Callable[[], None],
) -> None:
    """Run `start()`'s process, start it again whenever a `watched()` file changes, and return
    once told to stop (Ctrl-C, SIGTERM, SIGHUP), with the process stopped. `started()` is called
    once the files are watched: any change from then on restarts the process."""
    # Each stops it as Ctrl-C does (KeyboardInterrupt), even when this process was started with
    # them ignored: a shell without job control ignores Ctrl-C in the jobs it puts in the
    # background, and the process would otherwise ignore it too.
    for name in STOP_SIGNALS:
        signal.signal(name, signal.default_int_handler)
    seen = stamps(watched())
    child: subprocess.Popen[bytes] | None = None
    try:  # from the first start on: Ctrl-C may come while the banner is printed
        child = start()
        started()
        reported = False
        while True:
            time.sleep(POLL_SECONDS)
            if not reported and child.poll() is not None:
                print(
                    f"the server stopped (exit status {child.returncode}): "
                    "it starts again when you save a change",
                    flush=True,
                )
                reported = True
            now = stamps(watched())
            if edited := changed(seen, now):
                seen = now
                stop(child)
                names = ", ".join(str(path.relative_to(root)) for path in edited)
                print(f"{names} changed: restarting the server", flush=True)
                child = start()
                reported = False
    except KeyboardInterrupt:
        pass
    finally:
        for name in STOP_SIGNALS:  # a second Ctrl-C while the child stops changes nothing
            signal.signal(name, signal.SIG_IGN)
        if child is not None:
            stop(child)


def stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the process (SIGTERM, then SIGKILL if it lingers) and wait for it."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if child.stdin:
        child.stdin.close()
