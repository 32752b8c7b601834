"""Threat: the AWS services behind the webhook fail. It fails closed, says why, and recovers;
a store it can do without (deduplication, conversations) costs no reply.

Real faults where possible: an SSM endpoint on a closed loopback port (then a moto server on that
port), a loopback socket that accepts connections and never answers, moto without the parameter
or the table, a loopback proxy to a moto server that answers some calls late, never, or with an
error; botocore's Stubber for SSM's throttling and denial, a loopback endpoint answering the
Scheduler's.
"""

import contextlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import boto3
import pytest
import requests
from botocore.retries.standard import ExponentialBackoff
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

import handler
from devtools.invoke import free_port
from devtools.lambda_context import LambdaContext
from sms_webhook import aws, config, deadlines
from tests.conftest import (
    CONVERSATION_TABLE,
    IDEMPOTENCY_TABLE,
    SCHEDULE_GROUP,
    SHARED_KEYS_PATH,
    TOKEN_PARAMETER,
    create_table,
    put_secret,
)
from tests.support.twilio_requests import REST_URL, SSM_TOKEN, rest_request, signed

# The time a failing service may cost a request is what these tests measure.
pytestmark = pytest.mark.usefixtures("real_deadlines")


@pytest.fixture
def closed_port(monkeypatch):
    """SSM's endpoint is a loopback port where nothing listens, yet."""
    port = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", f"http://127.0.0.1:{port}")
    return port


def twilio_request() -> dict:
    return signed(rest_request(), REST_URL, token=SSM_TOKEN)


def test_ssm_unreachable_is_503_with_a_log_line_saying_why(token_in_ssm, closed_port, invoke, logs):
    response = invoke(twilio_request())

    assert response["statusCode"] == 503
    assert "<Response" not in response["body"]
    [record] = logs.records
    assert record["message"] == "secret unavailable"
    assert "Could not connect to the endpoint URL" in record["reason"]


def test_ssm_unreachable_is_counted_as_a_metric(token_in_ssm, closed_port, invoke, published):
    invoke(twilio_request())

    assert [metric["name"] for metric in published()] == ["TokenFetchFailures"]


@pytest.mark.slow
def test_when_ssm_is_back_the_next_request_is_answered(token_in_ssm, closed_port, invoke):
    invoke(twilio_request())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=closed_port, verbose=False)
    server.start()
    try:
        ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{closed_port}")
        put_secret(ssm, TOKEN_PARAMETER, SSM_TOKEN)

        assert invoke(twilio_request())["statusCode"] == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("error", "status"), [("ThrottlingException", 400), ("AccessDeniedException", 400)]
)
def test_throttled_or_denied_ssm_is_503_and_not_remembered(ssm, invoke, logs, error, status):
    with Stubber(config.ssm_provider().client) as stubbed:
        stubbed.add_client_error("get_parameter", error, http_status_code=status)
        stubbed.add_client_error("get_parameter", error, http_status_code=status)

        failed = invoke(twilio_request())

    answered = invoke(twilio_request())

    assert failed["statusCode"] == 503
    assert error in logs.records[0]["reason"]
    assert answered["statusCode"] == 200


def test_a_missing_parameter_is_503(token_in_ssm, aws_account, invoke, logs):
    response = invoke(twilio_request())

    assert response["statusCode"] == 503
    assert "ParameterNotFound" in logs.records[0]["reason"]


def test_unreachable_shared_keys_are_503(closed_port, invoke, monkeypatch):
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", SHARED_KEYS_PATH)
    event = rest_request()
    event["headers"]["X-Twilio-Webhooks-Signature-Settings"] = "key=k1,algorithm=HMAC_SHA256"
    event["headers"]["X-Twilio-Signature"] = "c2lnbmF0dXJl"

    assert invoke(event)["statusCode"] == 503


def test_without_the_token_the_reply_code_never_runs(token_in_ssm, closed_port, invoke, received):
    invoke(twilio_request())

    assert received == []


def test_an_unreachable_idempotency_table_still_answers_and_says_so(
    aws_account, invoke, logs, monkeypatch, published
):
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "not-created")
    response = invoke(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 200
    assert "<Message" in response["body"]
    assert "idempotency store unavailable, answering without it" in logs.messages()
    assert "IdempotencyStoreFailures" in [metric["name"] for metric in published()]


# Services that accept a connection and never answer


class SilentService:
    """A loopback TCP server that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed
                return
            self.connections.append(connection)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.socket.close()


@pytest.fixture
def silent():
    service = SilentService()
    yield service
    service.close()


@pytest.fixture
def silent_table(silent, monkeypatch):
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", silent.url)
    return silent


@pytest.fixture
def silent_ssm(silent, monkeypatch, token_in_ssm):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", silent.url)
    return silent


def timed(event, remaining_millis: int = 10_000) -> tuple[dict, float]:
    """The answer, and the seconds it took, for an invocation with that much time left."""
    started = time.monotonic()
    response = handler.lambda_handler(event, LambdaContext(remaining_millis=remaining_millis))
    return response, time.monotonic() - started


@pytest.mark.slow
def test_a_hanging_table_still_gets_the_message_answered_within_5_seconds(silent_table, published):
    response, seconds = timed(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 200
    assert "<Message" in response["body"]
    assert seconds < 5
    assert "IdempotencyStoreFailures" in [metric["name"] for metric in published()]


@pytest.mark.slow
def test_a_conditional_write_to_the_table_is_attempted_once(silent_table):
    timed(signed(rest_request(), REST_URL))

    assert len(silent_table.connections) == aws.PATIENCE["dynamodb"].attempts == 1


@dataclass(frozen=True)
class Call:
    """A DynamoDB API call, as the proxy receives it."""

    number: int
    """1 for the first call the proxy receives, 2 for the next..."""
    operation: str
    """`GetItem`, `PutItem`..."""
    table: str


@dataclass(frozen=True)
class Late:
    """Pass the call on and answer this many seconds late: a DynamoDB that made a write and then
    took its time to say so."""

    seconds: float


@dataclass(frozen=True)
class Silence:
    """Never answer: a table that accepts the call and hangs."""


@dataclass(frozen=True)
class Failure:
    """Answer this error without passing the call on: DynamoDB failing on its side."""

    code: str
    status: int


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A loopback server's request handler: no line per request in the tests' output."""

    def log_message(self, *_: object) -> None:
        pass


def serve(handler: type[QuietHandler]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """`handler` answering on a loopback port, from a thread of its own until `stop`: the server
    and its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop(server: http.server.ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


class DynamoDBProxy:
    """A loopback HTTP proxy to DynamoDB (a moto server) that fails the calls a test picks:
    `fault(call)` says how, or None to pass the call on as it is."""

    def __init__(
        self, target: str, fault: Callable[[Call], Late | Silence | Failure | None]
    ) -> None:
        proxy = self

        class Forward(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                operation = self.headers["X-Amz-Target"].rpartition(".")[2]
                with proxy.lock:
                    proxy.calls += 1
                    call = Call(proxy.calls, operation, json.loads(body).get("TableName", ""))
                how = fault(call)
                if isinstance(how, Silence):
                    proxy.closing.wait()
                    return
                if isinstance(how, Failure):
                    error = {"__type": f"com.amazonaws.dynamodb.v20120810#{how.code}"}
                    content_type = {"Content-Type": "application/x-amz-json-1.0"}
                    self.answer(how.status, content_type, json.dumps(error).encode())
                    return
                answer = requests.post(
                    target + self.path, data=body, headers=dict(self.headers), timeout=10
                )
                if isinstance(how, Late):
                    time.sleep(how.seconds)
                self.answer(answer.status_code, answer.headers, answer.content)

            def answer(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        if name.lower() not in (
                            "content-length",
                            "transfer-encoding",
                            "connection",
                        ):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the function gave up waiting, as the test made it

        self.calls = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.server, self.url = serve(Forward)

    def close(self) -> None:
        self.closing.set()
        stop(self.server)


@pytest.fixture
def proxied_dynamodb(empty_moto_server, monkeypatch):
    """DynamoDB as a moto server holding both tables, reached through a `DynamoDBProxy` that
    fails as the test says: `proxied_dynamodb(fault)`."""
    moto_url = empty_moto_server
    moto = boto3.client("dynamodb", endpoint_url=moto_url)
    for table in (IDEMPOTENCY_TABLE, CONVERSATION_TABLE):
        create_table(moto, table)
    proxies: list[DynamoDBProxy] = []

    def proxied(fault: Callable[[Call], Late | Silence | Failure | None]) -> None:
        proxies.append(DynamoDBProxy(moto_url, fault))
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxies[-1].url)

    yield proxied
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def slow_table(proxied_dynamodb, monkeypatch):
    """The deduplication table, behind a proxy whose first answer is late."""
    late = Late(aws.PATIENCE["dynamodb"].read + 0.5)
    proxied_dynamodb(lambda call: late if call.number == 1 else None)
    # botocore waits a random time before a retry, which the deadline may leave no room for:
    # no wait, so that a retry, if the client makes one, always happens
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda backoff, context: 0)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)


@pytest.mark.slow
def test_a_write_answered_too_late_still_gets_the_message_its_reply(slow_table, received):
    response, seconds = timed(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 200
    assert ">ok</Message>" in response["body"]
    assert len(received) == 1
    assert seconds < 5


@pytest.mark.slow
def test_a_hanging_ssm_is_a_503_within_5_seconds(silent_ssm):
    response, seconds = timed(twilio_request())

    assert response["statusCode"] == 503
    assert seconds < 5


@pytest.mark.slow
def test_an_aws_call_makes_two_attempts_at_most(silent_ssm):
    timed(twilio_request())

    # the second only when it can end in time: making the client costs part of the budget
    assert 1 <= len(silent_ssm.connections) <= aws.PATIENCE["ssm"].attempts == 2


def test_a_hanging_service_is_left_in_time_for_an_invocation_with_little_time_left(silent_ssm):
    response, seconds = timed(twilio_request(), remaining_millis=2_500)

    assert response["statusCode"] == 503
    assert seconds < 2.5


def test_no_aws_call_is_attempted_without_time_for_it(silent_ssm):
    response, _ = timed(twilio_request(), remaining_millis=1_500)

    assert response["statusCode"] == 503
    assert silent_ssm.connections == []


# The last token read, while SSM fails


@pytest.fixture
def token_read_then(ssm, monkeypatch, invoke):
    """A container that read its token, whose cache then expired, and SSM answers this error
    from then on: `token_read_then("ThrottlingException")`."""
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "0")
    assert invoke(twilio_request())["statusCode"] == 200
    with Stubber(config.ssm_provider().client) as failing:

        def failing_with(code: str, status: int = 400) -> None:
            for _ in range(10):
                failing.add_client_error("get_parameter", code, http_status_code=status)

        yield failing_with


@pytest.fixture
def token_read_then_ssm_throttled(token_read_then):
    token_read_then("ThrottlingException")


@pytest.mark.parametrize(("code", "status"), [("InternalServerError", 500), ("Unknown", 503)])
def test_while_ssm_fails_on_its_side_the_last_token_read_is_used(
    token_read_then, invoke, code, status
):
    token_read_then(code, status)

    assert invoke(twilio_request())["statusCode"] == 200


@pytest.mark.parametrize("code", ["AccessDeniedException", "ParameterNotFound"])
def test_a_revoked_or_deleted_token_is_not_ridden_out(token_read_then, invoke, code):
    token_read_then(code)

    assert invoke(twilio_request())["statusCode"] == 503


def test_while_ssm_fails_the_last_token_read_is_used(token_read_then_ssm_throttled, invoke):
    assert invoke(twilio_request())["statusCode"] == 200


def test_using_the_last_token_is_logged_and_counted(
    token_read_then_ssm_throttled, invoke, logs, published
):
    invoke(twilio_request())

    [warning] = [r for r in logs.records if r["level"] == "WARNING"]
    assert warning["message"] == "SSM unavailable: using secrets read earlier"
    assert "ThrottlingException" in warning["reason"]
    assert "StaleSecretsUsed" in [metric["name"] for metric in published()]


def test_after_a_failure_ssm_is_left_alone_for_a_while(token_read_then_ssm_throttled, invoke):
    calls = []
    config.ssm_provider().client.meta.events.register(
        "before-parameter-build.ssm.GetParameter", lambda **_: calls.append("GetParameter")
    )

    for _ in range(3):
        assert invoke(twilio_request())["statusCode"] == 200

    assert calls == ["GetParameter"]


def test_a_forged_request_is_still_rejected_with_the_last_token(
    token_read_then_ssm_throttled, invoke
):
    assert invoke(signed(rest_request(), REST_URL, token="forged"))["statusCode"] == 403


def test_the_last_token_is_used_for_an_hour_at_most(
    token_read_then_ssm_throttled, invoke, monkeypatch
):
    later = time.monotonic() + config.STALE_SECRETS_MAX_AGE + 1
    monkeypatch.setattr(config.time, "monotonic", lambda: later)

    assert invoke(twilio_request())["statusCode"] == 503


# The conversation store failing: the reply goes out all the same


def store_failures(logs) -> list[str]:
    """The operations (read, write) of the conversation store the log says failed."""
    return [
        record["operation"]
        for record in logs.records
        if record["message"] == "conversation store unavailable"
    ]


def counted(metric: str, metrics: list[dict]) -> list[float]:
    """The values published for that metric."""
    return [each["value"] for each in metrics if each["name"] == metric]


@pytest.fixture
def conversation_table_hanging(silent, monkeypatch) -> str:
    """DynamoDB accepts connections and never answers; deduplication is off."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", silent.url)
    return "read"


@pytest.fixture
def dynamodb_hanging_with_deduplication(conversation_table_hanging, monkeypatch) -> str:
    """DynamoDB hangs for both tables, deduplication's and the conversations'."""
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    return conversation_table_hanging


@pytest.fixture
def conversation_table_hanging_beside_deduplication(proxied_dynamodb, monkeypatch) -> str:
    """The conversation table never answers, while the deduplication table does."""
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    proxied_dynamodb(lambda call: Silence() if call.table == CONVERSATION_TABLE else None)
    return "read"


@pytest.fixture
def conversation_table_missing(aws_account) -> str:
    """The conversation table named in the environment was never created."""
    return "read"


@pytest.fixture
def conversation_writes_failing(proxied_dynamodb) -> str:
    """The conversation table is read as usual, and every write to it fails on DynamoDB's side."""
    write = ("PutItem", CONVERSATION_TABLE)
    failure = Failure("InternalServerError", 500)
    proxied_dynamodb(lambda call: failure if (call.operation, call.table) == write else None)
    return "write"


@pytest.fixture(
    params=[
        "conversation_table_hanging",
        "dynamodb_hanging_with_deduplication",
        "conversation_table_hanging_beside_deduplication",
        "conversation_table_missing",
        "conversation_writes_failing",
    ]
)
def failing_conversation_store(request, monkeypatch, conversing) -> str:
    """The conversation table failing as each fixture of `params` has it, and a handler that takes
    the conversation and changes it: the store's operation (read, write) that fails."""
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    return request.getfixturevalue(request.param)


@pytest.mark.slow
def test_a_failing_conversation_store_still_gets_the_message_its_reply_within_5_seconds(
    failing_conversation_store,
):
    response, seconds = timed(signed(rest_request(), REST_URL))

    assert response["statusCode"] == 200
    assert ">ok</Message>" in response["body"]
    assert seconds < 5


@pytest.mark.slow
def test_a_failing_conversation_store_is_logged_with_the_operation_and_counted(
    failing_conversation_store, logs, published
):
    timed(signed(rest_request(), REST_URL))

    assert store_failures(logs) == [failing_conversation_store]
    assert counted("ConversationStoreFailures", published()) == [1]


# The Scheduler failing as a handler sets a reminder: no promise the stack cannot keep


@contextlib.contextmanager
def refusing(code: str, status: int) -> Iterator[str]:
    """A loopback endpoint of a REST-JSON AWS service (the Scheduler) that answers every call
    with one error, its code where AWS puts it (`x-amzn-ErrorType`): its URL."""

    class Refuse(QuietHandler):
        def refuse(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content = json.dumps({"Message": f"{code} (a test's)"}).encode()
            self.send_response(status)
            self.send_header("x-amzn-ErrorType", code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_POST = do_DELETE = refuse

    server, url = serve(Refuse)
    try:
        yield url
    finally:
        stop(server)


@pytest.fixture
def scheduler_hanging(silent, scheduler, monkeypatch) -> str:
    """The Scheduler accepts connections and never answers: the reason logged."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEDULER", silent.url)
    return "ReadTimeoutError"


def scheduler_refusing(code: str, status: int, monkeypatch) -> Iterator[str]:
    with refusing(code, status) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEDULER", url)
        yield code


@pytest.fixture
def scheduler_throttling(scheduler, monkeypatch) -> Iterator[str]:
    """The Scheduler answers every call: too many, slow down."""
    yield from scheduler_refusing("ThrottlingException", 429, monkeypatch)


@pytest.fixture
def scheduler_denying(scheduler, monkeypatch) -> Iterator[str]:
    """The function's role may not create schedules (a policy changed by hand)."""
    yield from scheduler_refusing("AccessDeniedException", 403, monkeypatch)


@pytest.fixture(params=["scheduler_hanging", "scheduler_throttling", "scheduler_denying"])
def failing_scheduler(request, reminding) -> str:
    """The Scheduler failing as each fixture of `params` has it, and reply code that sets a
    reminder: the reason the failure is logged with."""
    reason: str = request.getfixturevalue(request.param)
    return reason


@pytest.mark.slow
def test_a_reminder_the_scheduler_cannot_set_is_a_503_within_twilios_wait(failing_scheduler):
    response, seconds = timed(signed(rest_request(), REST_URL))

    assert (response["statusCode"], response["body"]) == (
        503,
        "Service Unavailable: try again later",
    )
    assert seconds < deadlines.TWILIO_WAIT - deadlines.LATE_MARGIN


@pytest.mark.slow
def test_a_reminder_the_scheduler_cannot_set_is_logged_with_why_and_counted_and_not_queued(
    failing_scheduler, scheduler, later_queue, logs, published
):
    timed(signed(rest_request(), REST_URL))

    [line] = [r for r in logs.records if r["message"] == "timer not set"]
    assert (line["level"], line["reason"]) == ("ERROR", failing_scheduler)
    assert "Traceback" not in logs.text
    assert counted("TimersFailed", published()) == [1]
    assert scheduler.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"] == []
    assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=later_queue)
