"""Where the project's files are, and the function's name in them, for the tools that read them."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FUNCTION_ID = "WebhookFunction"
"""The function's logical id in template.yaml and env.json."""
WORKER_ID = "LaterRepliesFunction"
"""The worker's (later replies and texts sent first, from the queue)."""

LOCAL_CONVERSATIONS = PROJECT / ".local" / "conversations.json"
"""Where `make run` and `make chat` keep conversations: a file, kept across restarts."""
LOCAL_OUTBOX = PROJECT / ".local" / "outbox.jsonl"
"""Where `make run` and `make chat` put what the bot sends later (`OUTBOX_FILE`): a JSON line per
text, kept, never sent to Twilio."""
