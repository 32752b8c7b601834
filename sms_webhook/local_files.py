"""The files a local run keeps (conversations, senders, their locks, the outbox): yours alone.

They hold numbers and texts, and what the handler reads back. So each is in a folder that belongs
to you and that no one else may write in (a missing one is made, readable by you alone: 0700), is
opened without following a symbolic link, belongs to you, and is readable by you alone (0600; an
older one is made so). Otherwise another user of the machine could read them, plant a state the
handler then reads, or make a write go through a link into another of your files: the file is
refused, and the refusal logged with what to do. Deployed, the function keeps no local file.
"""

import errno
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from sms_webhook import deadlines
from sms_webhook.telemetry import logger

LOCK_WAIT = 2.0
"""Seconds a change waits for a local file's lock before it gives up (`LockTimeoutError`): the
message is then answered without what the file holds, as when a table cannot be reached."""
LOCK_RETRY = 0.01
"""Seconds between two tries of the lock."""


class LockTimeoutError(Exception):
    """Another process held the local file's lock for `LOCK_WAIT` seconds."""


class LocalFileRefusedError(Exception):
    """A local file, or its folder, that others could read, replace or point elsewhere."""


def private_folder(folder: str) -> None:
    """Make the folder (0700), or check that it is yours and that no one else may write in it."""
    folder = folder or "."
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:  # a symbolic link, a file, a folder it may not make
        _refuse(folder, f"cannot be opened as a folder ({error.strerror})")
    try:
        status = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    if status.st_uid != os.geteuid():
        _refuse(folder, "belongs to another user")
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        _refuse(folder, "may be written in by other users")


def open_private(path: str, flags: int) -> int:
    """The file's descriptor, opened with `flags` (`os.O_CREAT` makes it, 0600) in a folder of
    your own, never through a symbolic link (nor waiting on a pipe: `O_NONBLOCK`, which changes
    nothing for a file); refused unless it is a file of yours."""
    private_folder(os.path.dirname(path))
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            _refuse(path, "is a symbolic link")
        raise
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            _refuse(path, "is not a regular file")
        if status.st_uid != os.geteuid():
            _refuse(path, "belongs to another user")
        if status.st_mode & 0o077:  # written by an older version, or by hand
            os.fchmod(descriptor, 0o600)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_json(path: str) -> Any:
    """What the file holds as JSON, read as `open_private` opens it; None when there is no file.
    `ValueError` when it is no JSON."""
    try:
        descriptor = open_private(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with open(descriptor, encoding="utf-8") as stored:
        return json.load(stored)


def replace_with_json(path: str, value: Any) -> None:
    """The whole file replaced at once by `value` as JSON: a crash never leaves half of it. The
    new one is made by `mkstemp` (0600, never through a link) beside it, and replacing a link
    replaces the link."""
    import tempfile  # local runs only: the deployed function never pays for it

    directory = os.path.dirname(path) or "."
    prefix = f".{os.path.splitext(os.path.basename(path))[0]}-"
    descriptor, partial = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with open(descriptor, "w", encoding="utf-8") as written:
            json.dump(value, written, ensure_ascii=False)
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


@contextmanager
def locked(path: str, what: str) -> Iterator[None]:
    """The lock on `path`'s changes, a file beside it (`<path>.lock`), held meanwhile: several
    processes (`make run`, `make chat`, a test) and `make run`'s threads may change one file.
    Waited for `LOCK_WAIT` seconds at most: a change holds it for milliseconds, so a longer wait
    means a process stuck while holding it; `what` names the file in that error."""
    lock = open_private(f"{path}.lock", os.O_RDWR | os.O_CREAT)
    try:
        deadline = deadlines.monotonic() + LOCK_WAIT
        while not _lock_now(lock):
            if deadlines.monotonic() >= deadline:
                logger.error(
                    f"{what} locked by another process: a make run, make chat or test stuck? "
                    "Stopping it releases the lock",
                    extra={"file": f"{path}.lock", "waited_seconds": LOCK_WAIT},
                )
                raise LockTimeoutError(f"{path}.lock held for {LOCK_WAIT} s")
            deadlines.sleep(LOCK_RETRY)
        yield
    finally:
        os.close(lock)  # which releases the lock


@contextmanager
def changing(path: str, what: str, now: float) -> Iterator[dict[str, Any]]:
    """The entries a JSON file holds by key, to change, under its lock (`locked`), without those
    whose `expires_at` is before `now` (one without it lasts): written back whole after."""
    with locked(path, what):
        entries: dict[str, Any] = read_json(path) or {}
        kept = {key: entry for key, entry in entries.items() if entry.get("expires_at", now) >= now}
        yield kept
        replace_with_json(path, kept)


def _lock_now(descriptor: int) -> bool:
    """Whether the lock was free, and is now this process's."""
    import fcntl  # local runs only, as tempfile

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _refuse(path: str, why: str) -> NoReturn:
    reason = f"{path} {why}: keep CONVERSATION_FILE and OUTBOX_FILE in a folder of your own"
    logger.error("local file refused", extra={"file": path, "reason": reason})
    raise LocalFileRefusedError(reason)
