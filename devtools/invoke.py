"""`make invoke`: run the built function the way `sam local invoke` does, without Docker.

    make invoke EVENT=events/sms.json           # after `sam build` (make invoke builds if needed)
    make invoke EVENT=events/later-reply.json   # the worker, on a job from its queue

The function runs in Lambda's own runtime machinery: the Runtime Interface Emulator that ships
inside the aws-sam-cli package (the one in Lambda's container images) starts
`python -m awslambdaric <handler>` in the built artifact. Handler, environment variables and
timeout come from the built template, read by SAM's own template reader; env.json overrides
variables as `--env-vars` does. The event's shape says which function it is for: an SQS event
the worker's, an API Gateway (or Function URL) request the webhook's. The function sees only the
artifact, the runtime client and boto3 (as in Lambda), not the project's virtualenv. Everything
listens on loopback. The function's answer is printed on stdout, its logs on stderr.

In Lambda, and in `sam local invoke`'s container, /tmp is the function's own; on this machine it
is every user's. So the function gets `.local/tmp/` (yours alone) in its place: env.json's files
under /tmp/, the conversations and the outbox, are kept there (`in_own_tmp`).
"""

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

import samcli

from devtools.paths import (
    FUNCTION_ID,
    LOCAL_TMP,
    PROJECT,
    WORKER_ID,
    own_folder,
    own_local_folder_for,
)
from devtools.send import printed
from devtools.twiml_answer import OutgoingMessage
from sms_webhook.worker import is_sqs_batch

INVOCATIONS_PATH = "/2015-03-31/functions/function/invocations"
ANSWER_MARGIN = 30.0
"""Seconds beyond the function's timeout that an invocation's answer is waited for."""
RIE_BINARIES = {"x86_64": "aws-lambda-rie-x86_64", "aarch64": "aws-lambda-rie-arm64"}


def emulator_binary() -> Path:
    """The emulator for this machine's CPU (the artifact itself is pure Python)."""
    machine = platform.machine()
    if machine not in RIE_BINARIES:
        raise SystemExit(f"no Lambda Runtime Interface Emulator for {machine}")
    return Path(samcli.__file__).parent / "local" / "rapid" / RIE_BINARIES[machine]


def function_for(event: object) -> str | None:
    """The logical id of the function the event is for, by its shape, or None: an SQS event
    (records from `aws:sqs`) is the worker's, an API Gateway request (REST, or HTTP API and
    Function URL payload 2.0) the webhook's."""
    if not isinstance(event, dict):
        return None
    if "Records" in event:
        return WORKER_ID if is_sqs_batch(event) else None
    context = event.get("requestContext")
    if "httpMethod" in event or (isinstance(context, dict) and "http" in context):
        return FUNCTION_ID
    return None


def function_environment(
    template: Path, env_vars_file: Path | None, function_id: str = FUNCTION_ID
) -> tuple[dict[str, str], Path, str]:
    """The function's environment, code directory and handler, as `sam local invoke` sees them."""
    # Imported here: a second of the SAM CLI's that an event that cannot be read need not wait for.
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
    from samcli.local.lambdafn.env_vars import EnvironmentVariables

    stacks, _ = SamLocalStackProvider.get_stacks(str(template))
    function = SamFunctionProvider(stacks).get(function_id)
    overrides = {}
    if env_vars_file:
        values = json.loads(env_vars_file.read_text())
        overrides = {**values.get("Parameters", {}), **values.get(function_id, {})}
    variables = EnvironmentVariables(
        function.name,
        function.memory,
        function.timeout,
        function.handler,
        function.logging_config,
        variables=(function.environment or {}).get("Variables", {}),
        shell_env_values=os.environ,
        override_values=overrides,
    ).resolve()
    code = Path(function.codeuri)
    if not code.is_absolute():
        code = template.parent / code
    return variables, code.resolve(), function.handler


LAMBDA_TMP = "/tmp/"  # noqa: S108 - the function's own in Lambda, never the machine's here
"""Lambda's one writable folder, the function's alone."""


def in_own_tmp(variables: dict[str, str], tmp: Path) -> dict[str, str]:
    """The function's environment with `tmp` in place of its /tmp: each value that is a path
    under /tmp/ moved into `tmp`, and `TMPDIR` there. Lambda gives a function a /tmp of its own;
    this machine's is every user's, who could read the outbox there (numbers and texts), plant a
    conversation the handler reads, or hold its lock."""
    moved = {
        name: str(tmp / value.removeprefix(LAMBDA_TMP)) if value.startswith(LAMBDA_TMP) else value
        for name, value in variables.items()
    }
    return {**moved, "TMPDIR": str(tmp)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class InvocationError(Exception):
    """The function did not answer: it failed to start, raised or timed out."""


class Emulator:
    """The Runtime Interface Emulator running the function; invoke it as often as needed."""

    def __init__(
        self,
        template: Path,
        env_vars_file: Path | None,
        runtime_dir: Path,
        logs: TextIO = sys.stderr,
        function_id: str = FUNCTION_ID,
        *,
        tmp: Path,
    ):
        """Start the emulator running that function, with `tmp` (a folder of your own) for its
        /tmp; its logs go to `logs` (a file with a descriptor)."""
        variables, code, handler = function_environment(template, env_vars_file, function_id)
        variables = in_own_tmp(variables, tmp)
        runtime_dir = runtime_dir.resolve()
        self.port = free_port()
        # The emulator ends an invocation at the function's timeout; an answer comes before.
        self.patience = float(variables["AWS_LAMBDA_FUNCTION_TIMEOUT"]) + ANSWER_MARGIN
        outbox = variables.get("OUTBOX_FILE", "")
        self.outbox = Path(outbox) if outbox else None
        """Where the function writes what it would send (env.json), if anywhere."""
        environment = {
            **variables,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(code),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "_HANDLER": handler,
            "PYTHONPATH": f"{code}{os.pathsep}{runtime_dir}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [
            str(emulator_binary()),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{free_port()}",
            # -S: no site-packages, so the function imports only what the artifact carries.
            *(sys.executable, "-S", "-m", "awslambdaric", handler),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=code, env=environment, stdout=logs, stderr=logs
        )
        self._wait_until_listening()

    def _wait_until_listening(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the Runtime Interface Emulator exited")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("the Runtime Interface Emulator did not start")

    def invoke(self, event: bytes) -> bytes:
        """The function's answer, or the emulator's account of how it failed."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{INVOCATIONS_PATH}", data=event, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.patience) as response:  # noqa: S310
                answer: bytes = response.read()
                return answer
        except urllib.error.HTTPError as error:
            raise InvocationError(error.read().decode(errors="replace")) from None
        except OSError as error:  # refused, reset or timed out: the emulator itself failed
            raise InvocationError(f"no answer from the emulator ({error})") from None

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def function_of(path: Path, event: bytes) -> str:
    """The function the event read from `path` is for; one line and status 1 when none."""
    try:
        shape = json.loads(event)
    except ValueError as error:
        raise SystemExit(f"{path} is not JSON ({error}): an event is a JSON document") from None
    function_id = function_for(shape)
    if function_id is None:
        raise SystemExit(
            f"{path} is neither an API Gateway request ({FUNCTION_ID}) nor an SQS event "
            f"({WORKER_ID}): the samples in events/ are one or the other"
        )
    return function_id


def texts_in(outbox: Path | None) -> list[dict[str, Any]]:
    """The texts the outbox holds: one JSON line each (`sms_webhook/local_run.py`)."""
    try:
        lines = outbox.read_bytes().splitlines() if outbox else []
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines]


def shown(text: dict[str, Any]) -> list[str]:
    """A text from the outbox as `make send` prints a reply, under whom it is to."""
    message = OutgoingMessage(text["body"], tuple(text["media"]))
    lines = printed([message], text["to"]).splitlines()
    return [f"  to {text['to']}:", *(f"    {line}" for line in lines)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, nargs="?", default=PROJECT / "events" / "sms.json")
    parser.add_argument("--env-vars", type=Path, default=PROJECT / "env.json")
    parser.add_argument("--template", type=Path, default=PROJECT / ".aws-sam/build/template.yaml")
    parser.add_argument("--runtime-dir", type=Path, required=True, help="awslambdaric and boto3")
    parser.add_argument("--repeat", type=int, default=1, help="invocations, to time warm starts")
    parser.add_argument(
        "--tmp",
        type=Path,
        default=LOCAL_TMP,
        help="the folder given to the function for its /tmp (default: .local/tmp/, yours alone)",
    )
    args = parser.parse_args(argv)

    try:
        event = args.event.read_bytes()
    except OSError as error:
        raise SystemExit(
            f"cannot read the event {args.event}: {error.strerror}; "
            "the samples are in events/, `make event` makes more"
        ) from None
    function_id = function_of(args.event, event)
    if not args.template.is_file():
        raise SystemExit(f"no built template at {args.template}: run `make build` first")
    own_local_folder_for(args.tmp)
    with Emulator(
        args.template,
        args.env_vars,
        args.runtime_dir,
        function_id=function_id,
        tmp=own_folder(args.tmp),
    ) as emulator:
        for number in range(1, args.repeat + 1):
            written = len(texts_in(emulator.outbox))
            started = time.perf_counter()
            try:
                answer = emulator.invoke(event)
            except InvocationError as error:
                raise SystemExit(f"invocation failed: {error}") from None
            elapsed = (time.perf_counter() - started) * 1000
            print(answer.decode(), flush=True)
            kind = "cold" if number == 1 else "warm"
            print(f"invocation {number} ({kind}): {elapsed:.1f} ms", file=sys.stderr, flush=True)
            if sent := texts_in(emulator.outbox)[written:]:
                lines = [line for text in sent for line in shown(text)]
                where = f"{len(sent)} text(s) written to {emulator.outbox}, not sent to Twilio:"
                print(where, *lines, sep="\n", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
