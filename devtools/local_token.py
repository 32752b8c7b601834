"""The auth token local runs sign and check with."""

import json
import os

from devtools.paths import FUNCTION_ID, PROJECT


def development_token() -> str:
    """The public test token in env.json, which the sample events are signed with."""
    variables = json.loads((PROJECT / "env.json").read_text())[FUNCTION_ID]
    token: str = variables["TWILIO_AUTH_TOKEN"]
    return token


def local_token() -> str:
    """Your own token when `TWILIO_AUTH_TOKEN` is set (to take real texts), else the test one."""
    return os.environ.get("TWILIO_AUTH_TOKEN") or development_token()
