"""The command a tool's message tells you to run: the make target when make started the tool,
else the `python -m devtools....` line, so that someone who runs the tools without make is never
told to run make (and is told `--port 3001`, not `PORT=3001`).

make puts `MAKELEVEL` in the environment of every command it runs: that is how a tool knows.
"""

import os


def started_by_make() -> bool:
    return "MAKELEVEL" in os.environ


def as_started(make: str, python: str) -> str:
    """`make` when make started this process, else `python`."""
    return make if started_by_make() else python
