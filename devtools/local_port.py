"""The port `make run` listens on and `make send` sends to (their `--port` option), and the URLs
on it: the one to send to, and the one the function checks a signature against."""

import argparse
import errno
import os

from devtools.commands import as_started

DEFAULT_PORT = 3000
MAX_PORT = 65535


def port_number(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"PORT must be a number from 0 to 65535, not {value!r}")
    return int(value)


def add_port_argument(parser: argparse.ArgumentParser) -> None:
    """`--port`, by default the `PORT` environment variable, else 3000."""
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("PORT") or str(DEFAULT_PORT),
        help=f"the port on 127.0.0.1 (default: $PORT, else {DEFAULT_PORT})",
    )


def cannot_listen(port: int, error: OSError) -> str:
    """One line on why the port cannot be used, and what to run instead."""
    if error.errno == errno.EADDRINUSE:
        other = port + 1 if port < MAX_PORT else DEFAULT_PORT
        return f"port {port} is in use: {serve_command(other)}"
    reason = error.strerror or str(error)
    return f"cannot listen on 127.0.0.1:{port} ({reason}): {serve_command(DEFAULT_PORT + 1)}"


def serve_command(port: int) -> str:
    """The command that serves the webhook on `port`: `make run PORT=3001`, or without make
    `python -m devtools.serve --port 3001`."""
    if port == DEFAULT_PORT:
        return as_started("make run", "python -m devtools.serve")
    return as_started(f"make run PORT={port}", f"python -m devtools.serve --port {port}")


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/sms"


def signed_url(port: int) -> str:
    """The URL the function checks a request to 127.0.0.1:`port` against: the one it rebuilds
    from the Host header, unless `TWILIO_WEBHOOK_URL` says otherwise."""
    return os.environ.get("TWILIO_WEBHOOK_URL") or f"https://127.0.0.1:{port}/sms"
