"""Where the project's files are, and the function's name in them, for the tools that read them."""

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FUNCTION_ID = "WebhookFunction"
"""The function's logical id in template.yaml and env.json."""
WORKER_ID = "LaterRepliesFunction"
"""The worker's (later replies and texts sent first, from the queue)."""

LOCAL = PROJECT / ".local"
"""Your local files (ignored by git): they hold numbers and texts, so the folder is yours alone."""
LOCAL_CONVERSATIONS = LOCAL / "conversations.json"
"""Where `make run` and `make chat` keep conversations: a file, kept across restarts."""
LOCAL_OUTBOX = LOCAL / "outbox.jsonl"
"""Where `make run` and `make chat` put what the bot sends later (`OUTBOX_FILE`): a JSON line per
text, kept, never sent to Twilio."""
LOCAL_LOG = LOCAL / "webhook.jsonl"
"""Where `make run` writes the function's JSON log lines, unless `LOG_JSON` asks for them among
the lines it prints for you."""
LOCAL_TMP = LOCAL / "tmp"
"""What `make invoke` gives the function in place of /tmp (see `devtools.invoke.in_own_tmp`)."""
LOCAL_PHONE_JOURNAL = LOCAL / "phone.jsonl"
"""What `make phone`'s page shows, event by event (devtools/phone_journal.py)."""
LOCAL_PHONE_MEDIA = LOCAL / "phone-media"
"""The files attached on `make phone`'s page, served back to it."""


def own_folder(folder: Path) -> Path:
    """The folder, made if missing, readable by you alone (0700): one an older version made with
    mkdir's default (0755) too. Never through a symbolic link."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchmod(descriptor, 0o700)
    finally:
        os.close(descriptor)
    return folder


def own_local_folder_for(*paths: Path) -> None:
    """`.local/` made yours alone (`own_folder`) when one of these paths is in it: the function
    makes a missing folder so itself, but would only refuse an older one others may write in."""
    if any(path.parent == LOCAL for path in paths):
        own_folder(LOCAL)
