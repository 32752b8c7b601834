"""What `make phone`'s page shows, kept as it happens: a JSON line per event (a text in, the
webhook's answer, a text sent later, a delivery status...) in `.local/phone.jsonl`.

The page reads it as a stream of Server-Sent Events, each event's id the offset just after its
line: a page that reconnects (the server restarted after an edit) or reloads says where it stood
(`Last-Event-ID`) and misses nothing, and a new page replays the threads from the start. The file
holds numbers and texts, so it is yours alone (`local_files`), as the outbox is.
"""

import json
import os
import threading
from pathlib import Path
from typing import Any

from sms_webhook.local_files import open_private

Event = dict[str, Any]
"""One thing the page shows: its `kind` ("in", "answer", "sent", "status", "error", "reset")
and what it holds, as JSON."""


class Journal:
    """The events, appended by any thread of the server, read from any offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, event: Event) -> None:
        line = json.dumps(event, ensure_ascii=False) + "\n"
        with self._lock:
            descriptor = open_private(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            with open(descriptor, "a", encoding="utf-8") as written:
                written.write(line)

    def read(self, offset: int) -> list[tuple[int, Event]]:
        """The events whose lines are whole after `offset`, each with the offset after it. An
        offset beyond the end (the file was removed since) reads from the start, after a
        `cleared` event that tells the page to forget what it shows."""
        try:
            with self.path.open("rb") as journal:
                size = journal.seek(0, os.SEEK_END)
                start = offset if offset <= size else 0
                journal.seek(start)
                data = journal.read(size - start)
        except FileNotFoundError:
            data, start, size = b"", 0, 0
        events: list[tuple[int, Event]] = []
        if offset > size:
            events.append((0, {"kind": "cleared"}))
        position = start
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):  # still being written
                break
            position += len(line)
            events.append((position, json.loads(line)))
        return events
