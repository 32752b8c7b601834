"""Reply code for the tests that run `make chat` on a copy of the project, as its replies.py:
handlers that run later and take their time, or wait for a gate that may never open, and one
that texts staff first; and one that fails."""

import os
import time
from pathlib import Path

from sms_webhook import IncomingMessage, Reply, Router, send_text

STAFF = "+14155550100"
"""Who `AGENT` texts first."""
SLOW_SECONDS = 0.5

router = Router()


@router.keyword("GATED", later=True, acknowledgement="Working on it")
def gated(message: IncomingMessage) -> Reply:
    """Done once the gate is open (the file `GATE` names exists), if ever."""
    gate = Path(os.environ["GATE"])
    while not gate.exists():
        time.sleep(0.05)
    return "Done at last"


@router.keyword("OPEN")
def open_the_gate(message: IncomingMessage) -> Reply:
    Path(os.environ["GATE"]).touch()
    return "Opened"


@router.keyword("SLOW", later=True, acknowledgement="Working on it")
def slow(message: IncomingMessage) -> Reply:
    """Done after the chat's input has ended."""
    time.sleep(SLOW_SECONDS)
    return "Done slowly"


@router.keyword("AGENT")
def call_an_agent(message: IncomingMessage) -> Reply:
    send_text(STAFF, f"A customer asks: {message.body}", key=message.sid)
    return "An agent will text you back shortly."


@router.keyword("BROKEN")
def broken(message: IncomingMessage) -> Reply:
    """A mistake in reply code: the webhook answers 500."""
    raise RuntimeError("a mistake in reply code")


@router.fallback
def echo(message: IncomingMessage) -> Reply:
    return f"You said: {message.body}"
