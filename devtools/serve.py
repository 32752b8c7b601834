"""`make run`: the webhook on your machine, restarted when its code changes.

    make run                  # or: python -m devtools.serve   (PORT=8080 to change the port)

Each HTTP request becomes the event API Gateway would send (devtools/webhook_server.py), a request
through a tunnel (ngrok, cloudflared) checked against the tunnel's public URL, the one Twilio
signed. Without `TWILIO_AUTH_TOKEN`, signatures are checked with the public test token in
env.json, which anybody can sign with: then only requests made on this machine are handed to the
function, and one that arrives through a tunnel is refused here (403) with a word on setting the
token (devtools/loopback.py).

A handler that runs later runs in the server process once the webhook has answered, as the
worker would after the queue, and what it sends (and every text sent first, `send_text`) goes to
the local outbox, `.local/outbox.jsonl` (`OUTBOX_FILE`), never to Twilio or the deployed queue:
each text is printed when it is put there, `sent to +1…34#5f2c9a1e ⇒ "Your report: ..."`. A
restart stops the later replies still running, and says so.

Timers (a question's deadline, a reminder) go off on real time: each is printed when it is set
(`timer set: survey_nudge for +1…34#5f2c9a1e in 1h`) and when it goes off (`timer went off:
...`), before what it sends. They are kept in `.local/timers.json`, beside the outbox
(devtools/kept_timers.py): those set before a restart go off after it, and one that fell due
while `make run` was stopped goes off when it starts again.

The function's JSON log lines go to `.local/webhook.jsonl`, not among the lines printed for you,
unless `LOG_JSON` is set (`make run LOG_JSON=1`); each request has its own Lambda request id.

The server restarts when the function's code changes (devtools/supervise.py): this process keeps
the listening socket, so requests wait through a restart, and runs the server in a child process
(`--listen-fd`), which prints a line a person can read for each request and, on this machine only,
the traceback of an exception raised by reply code: escaped, whatever the request held
(devtools/console.py).

`make phone` (`--phone`) is this server serving a phone in the browser too, at /phone, whose texts
go through the webhook as any other (devtools/phone_server.py).
"""

import argparse
import contextlib
import functools
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.console import banner, print_traceback, sent_line, timer_due, timer_named
from devtools.function_code import import_handler
from devtools.kept_timers import KeptClock, firing, timers_file
from devtools.local_port import add_port_argument, cannot_listen, local_url
from devtools.local_token import local_token
from devtools.paths import (
    LOCAL_CONVERSATIONS,
    LOCAL_LOG,
    LOCAL_OUTBOX,
    PROJECT,
    own_local_folder_for,
)
from devtools.phone_server import PhoneApp, open_page
from devtools.supervise import supervise
from devtools.twilio_message import ACCOUNT_SID, TWILIO_NUMBER
from devtools.webhook_server import WebhookServer

if TYPE_CHECKING:  # the server process imports it (`serve`), once the function is imported
    from sms_webhook.local_run import LocalRun


def use_local_outbox() -> None:
    """Later replies and texts sent first go to the outbox (`OUTBOX_FILE`, by default
    `.local/outbox.jsonl`), never to the deployed queue a shell may name; texts sent first come
    from the sample Twilio number unless `SEND_FROM` and `TWILIO_ACCOUNT_SID` say otherwise."""
    outbox = Path(os.environ.get("OUTBOX_FILE", "").strip() or LOCAL_OUTBOX)
    os.environ["OUTBOX_FILE"] = str(outbox)
    os.environ.pop("LATER_QUEUE_URL", None)
    os.environ.setdefault("SEND_FROM", TWILIO_NUMBER)
    os.environ.setdefault("TWILIO_ACCOUNT_SID", ACCOUNT_SID)


def function_files() -> list[Path]:
    """The code the server runs: a change to any of it restarts the server."""
    return [
        PROJECT / "replies.py",
        PROJECT / "handler.py",
        *sorted((PROJECT / "sms_webhook").glob("*.py")),
    ]


def start_server(listening: socket.socket, phone: bool = False) -> subprocess.Popen[bytes]:
    """The server process, serving on the supervisor's socket, with a pipe on its stdin that
    closes when the supervisor is gone; serving `make phone`'s page too when `phone`."""
    descriptor = listening.fileno()
    # Ctrl-C reaches every process of the terminal's group; this one stops the server itself.
    # Blocked while the server process starts, SIGINT stays blocked in it (the signal mask
    # survives exec) until `serve` ignores it, and here it is delivered once Popen returns.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(  # noqa: S603 - our own command line
            [
                *(sys.executable, "-m", "devtools.serve", "--listen-fd", str(descriptor)),
                *(["--phone"] if phone else []),
            ],
            cwd=PROJECT,
            pass_fds=(descriptor,),
            stdin=subprocess.PIPE,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def serve(listening: socket.socket, phone: bool = False) -> None:
    """The server process: imports the function afresh and serves it (and `make phone`'s page,
    when `phone`) until stopped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops this process on Ctrl-C
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_when_the_supervisor_is_gone, daemon=True).start()
    if isinstance(sys.stdout, io.TextIOWrapper):  # a line of output is out as it is printed
        sys.stdout.reconfigure(line_buffering=True)
    try:
        handler = import_handler()
    except SystemExit as error:  # one line on why not; a request is told it, not left waiting
        print(error, file=sys.stderr, flush=True)
        print("the server answers 500 until you save a fix", flush=True)
        serve_until_stopped(WebhookServer(listening, str(error)))
        return
    from sms_webhook import local_run

    log_aside()
    server = WebhookServer(listening, handler.lambda_handler)
    clock = kept_clock()
    run = local_run_here(server, clock)
    if phone:
        server.phone = PhoneApp(server.server_port)
        server.phone.hear(run)
    page = server.phone.running() if server.phone else contextlib.nullcontext()
    with local_run.using(run), firing(clock, fire_due_timers), page:
        serve_until_stopped(server)
    if running := server.later_jobs.wait(0):  # their threads end with this process
        replies = "1 later reply" if running == 1 else f"{running} later replies"
        print(f"{replies} still running, stopped with the server: nothing sent", flush=True)


def log_aside() -> None:
    """The function's JSON log lines (some 750 characters each, one or more a message) go to
    `.local/webhook.jsonl`, not among the lines printed for you, unless `LOG_JSON` is set
    (`make run LOG_JSON=1`). A handler of your own that writes elsewhere is left as it is."""
    from sms_webhook.telemetry import logger

    log_handler = logger.registered_handler
    if os.environ.get("LOG_JSON"):
        return
    if isinstance(log_handler, logging.StreamHandler) and log_handler.stream is sys.stdout:
        own_local_folder_for(LOCAL_LOG)
        log_handler.setStream(LOCAL_LOG.open("a", encoding="utf-8", buffering=1))


def serve_until_stopped(server: WebhookServer) -> None:
    """Serve until the supervisor stops this process (SIGTERM), then answer the requests in hand
    (those not yet accepted wait in the socket's queue for the next server). `shutdown` waits for
    the loop, so it is called from another thread; the loop looks for it every 0.1 s."""
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.1)
    server.wait_for_answers()


def local_run_here(server: WebhookServer, clock: KeptClock) -> "LocalRun":
    """This process's local run (`sms_webhook/local_run.py`): jobs for later run here, each once
    the answer to its message is out, and timers wait on `clock`; each text put in the outbox is
    printed, and so is the traceback of each error of reply code."""
    from sms_webhook.local_run import LocalRun

    run = LocalRun(start=server.later_jobs.start, on_error=print_traceback, clock=clock)
    run.listeners.append(lambda outgoing: print(sent_line(outgoing), flush=True))
    return run


def kept_clock() -> KeptClock:
    """The clock this process's timers wait on, holding those the server before it left (said in
    a line): each timer set is printed, and each that goes off."""
    clock = KeptClock(
        timers_file(),
        on_set=lambda job: print(f"timer set: {timer_due(job, clock.now())}", flush=True),
        on_due=lambda job: print(f"timer went off: {timer_named(job)}", flush=True),
    )
    if waiting := clock.waiting():
        soonest = timer_due(waiting[0], clock.now())
        print(f"timers kept from before: {len(waiting)}, the soonest {soonest}", flush=True)
    return clock


def fire_due_timers() -> None:
    """The timers due go off: their jobs run as later replies do, with the handlers that answer
    messages (replies.py's, or a test's own)."""
    from replies import router  # imported already, with the function
    from sms_webhook import later, local_run

    later.run_due_timers(local_run.router() or router)


def _exit_when_the_supervisor_is_gone() -> None:
    """Whether the supervisor stopped or was killed, its end of the pipe closes. (Unbuffered
    reads: a thread blocked in the buffered `sys.stdin` would hold its lock at shutdown.)"""
    while os.read(sys.stdin.fileno(), 512):
        pass
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.serve",
        description="Serve the webhook on http://127.0.0.1:PORT/sms (what `make run` does), "
        "restarting it when replies.py, handler.py or sms_webhook/ change.",
        epilog="The token is TWILIO_AUTH_TOKEN if set, else env.json's public test token "
        "(then only requests made on this machine are answered). TWILIO_WEBHOOK_URL gives the "
        "URL Twilio signs, when a tunnel rewrites the host.",
    )
    add_port_argument(parser)
    parser.add_argument(
        "--phone",
        action="store_true",
        help="serve a phone in the browser too, at /phone, and open it (`make phone`; OPEN=0: "
        "only print its URL)",
    )
    parser.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.listen_fd is not None:
        serve(socket.socket(fileno=arguments.listen_fd), arguments.phone)
        return
    try:
        listening = socket.create_server(("127.0.0.1", arguments.port))
    except OSError as error:
        raise SystemExit(cannot_listen(arguments.port, error)) from None
    port = listening.getsockname()[1]
    token = local_token()
    os.environ["TWILIO_AUTH_TOKEN"] = token  # for the server processes
    os.environ.setdefault("CONVERSATION_FILE", str(LOCAL_CONVERSATIONS))
    use_local_outbox()
    own_local_folder_for(Path(os.environ["CONVERSATION_FILE"]), Path(os.environ["OUTBOX_FILE"]))

    def started() -> None:
        print(banner(port, token), flush=True)
        if arguments.phone:
            print(open_page(f"http://127.0.0.1:{port}/phone"), flush=True)

    supervise(
        functools.partial(start_server, listening, arguments.phone),
        function_files,
        PROJECT,
        started=started,
    )
    listening.close()
    print(f"stopped: nothing listens on {local_url(port)} any more", flush=True)


if __name__ == "__main__":
    main()
