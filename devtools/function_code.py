"""The function's code (`handler.py`, `replies.py`, `sms_webhook/`), imported by the tools that run
it on this machine (`make run`, `make chat`).

Code that cannot be imported (a syntax error in replies.py, a misspelt import) is told in one
line, the file and line to fix and the error, instead of a traceback through the import machinery
that buries them.
"""

import sys
import traceback
from pathlib import Path
from types import ModuleType

from devtools.paths import PROJECT


def import_handler() -> ModuleType:
    """`handler`, imported; when it cannot be, exit with status 1 and `import_error`'s line."""
    try:
        import handler
    except Exception as error:
        raise SystemExit(import_error(error)) from None
    return handler


def import_error(error: Exception) -> str:
    """`replies.py:12: SyntaxError: invalid syntax`: where the error is, in the project's own code
    when it comes from there (not from a library it called), and the error."""
    if isinstance(error, SyntaxError):
        filename, line, message = error.filename or "?", error.lineno, error.msg
    else:
        frames = traceback.extract_tb(error.__traceback__)
        frame = next(
            (frame for frame in reversed(frames) if is_project_code(Path(frame.filename))),
            frames[-1],
        )
        filename, line, message = frame.filename, frame.lineno, str(error)
    what = f"{_relative(filename)}:{line}: {type(error).__name__}"
    first_line = message.partition("\n")[0]
    return f"{what}: {first_line}" if first_line else what


def is_project_code(path: Path) -> bool:
    """Whether the file is the project's code, not the virtualenv's that may live in it."""
    path = path.resolve()
    return path.is_relative_to(PROJECT) and not path.is_relative_to(Path(sys.prefix).resolve())


def _relative(filename: str) -> str:
    path = Path(filename).resolve()
    return str(path.relative_to(PROJECT)) if path.is_relative_to(PROJECT) else filename
