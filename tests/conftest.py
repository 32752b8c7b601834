import contextlib
import functools
import gc
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
import requests
from hypothesis import settings
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

import handler
from devtools.fake_twilio import TwilioMessages
from devtools.lambda_context import LambdaContext
from devtools.local_token import development_token
from devtools.webhook_server import WebhookServer
from sms_webhook import (
    aws,
    config,
    conversation_store,
    deadlines,
    idempotency,
    local_run,
    senders,
    sending,
    timers,
)
from sms_webhook.conversation_store import Conversations, FileStore, Stored
from sms_webhook.later import send_text
from sms_webhook.local_run import LocalRun
from sms_webhook.rejections import RejectionLog
from sms_webhook.router import Router
from sms_webhook.telemetry import logger
from tests.support.builds import BUILDS, PROJECT
from tests.support.emf import emitted_metrics
from tests.support.local_project import OUTER_MAKE, RunningServer, copy_of_project
from tests.support.twilio_requests import (
    ACCOUNT_SID,
    SHARED_KEY_ID,
    SHARED_KEY_SECRET,
    SSM_TOKEN,
    TOKEN,
    TWILIO_NUMBER,
    leaked,
)

settings.register_profile("shared machine", deadline=None)
settings.load_profile("shared machine")
"""Hypothesis' examples take the time they take: its 200 ms deadline per example fails a test on a
busy machine (CI's is shared) while nothing is wrong."""

INSPECTED = (BUILDS, PROJECT / "events")

TOKEN_PARAMETER = "/twilio/auth-token"
"""The SSM parameter that holds the auth token (template.yaml's default)."""
SHARED_KEYS_PATH = "/twilio/webhook-keys"
"""The SSM path under which each SharedKey's secret is stored by its key id (the default)."""
IDEMPOTENCY_TABLE = "IdempotencyTable"
"""The deduplication table's name."""
CONVERSATION_TABLE = "ConversationTable"
"""The conversation table's name."""
SENDERS_TABLE = "SendersTable"
"""The senders' table's name."""


def file_states(roots: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every file and folder under `roots`, with its size and modification time."""
    return {
        str(path.relative_to(PROJECT)): (
            path.stat().st_size if path.is_file() else 0,
            path.stat().st_mtime_ns,
        )
        for root in roots
        for path in [root, *root.rglob("*")]
        if path.exists()
    }


@pytest.fixture(scope="session", autouse=True)
def inspected_files_stay_as_they_were():
    """Tests never change what they inspect: make does not rebuild an artifact that a test has
    written to (a __pycache__ from running Python inside it), so the next `make test` would fail
    on it. This fails the run that wrote it, naming the files."""
    before = file_states(INSPECTED)
    yield
    after = file_states(INSPECTED)
    changed = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    assert not changed, f"the tests changed {len(changed)} files they inspect: {changed[:5]}"


MINIMUM_WORKERS = 4
"""pytest-xdist's workers for `-n auto`, at the least; one per CPU beyond that."""


def pytest_xdist_auto_num_workers(config):
    """A fair part of the suite waits rather than computes (on timeouts, servers, processes):
    more workers than CPUs compute meanwhile. On 2 CPUs, 4 workers ran the suite in 57-64 s,
    2 workers in 79-104 s (a busy machine, the same CPU time). PYTEST_XDIST_AUTO_NUM_WORKERS
    still decides when it is set."""
    if "PYTEST_XDIST_AUTO_NUM_WORKERS" in os.environ:
        return None
    return max(MINIMUM_WORKERS, os.cpu_count() or 1)


GARBAGE_COLLECTION_THRESHOLDS = (50_000, 20, 20)
"""How often Python's garbage collector runs in a test process (its default: 700, 10, 10)."""


def pytest_configure(config):
    """Less often: each of the collector's passes walks the objects of every module imported
    (botocore's and moto's models among them), and the tests import, make and drop many."""
    gc.set_threshold(*GARBAGE_COLLECTION_THRESHOLDS)


def pytest_collection_finish(session):
    """What a test process holds once the tests are collected lives as long as it does: set
    aside, for the collector's passes to leave out. Every cycle a test leaves is still collected.
    With the thresholds above: 25-31 s of a run's CPU time in the collector -> 5 s."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def service_models_read_once():
    """One botocore loader for every session the tests make. moto gives each test a new boto3
    session, and each would read and parse the services' JSON models again (a third of a
    second per test); the models never change, while credentials and configuration are still
    resolved anew by each session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.session, "create_loader", functools.cache(botocore.loaders.create_loader)
        )
        yield


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    """What every test starts from: the token in the environment, conversations in a file of the
    test's own, nothing else configured."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CONVERSATION_FILE", str(tmp_path / "conversations.json"))
    for name in (
        "TWILIO_AUTH_TOKEN_PARAMETER",
        "TWILIO_SHARED_KEYS_PATH",
        "TWILIO_WEBHOOK_URL",
        "REPLY_MESSAGE",
        "IDEMPOTENCY_TABLE",
        "CONVERSATION_TABLE",
        "CONVERSATION_TTL_HOURS",
        "SENDERS_TABLE",
        "SENDERS_FILE",
        "CONVERSATION_HISTORY",
        "POWERTOOLS_PARAMETERS_MAX_AGE",
        "AWS_REGION",
        "LATER_QUEUE_URL",
        "OUTBOX_FILE",
        "SCHEDULE_GROUP",
        "SCHEDULER_ROLE_ARN",
        "LATER_QUEUE_ARN",
        "DEAD_LETTER_QUEUE_ARN",
        "SEND_FROM",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_KEY_PARAMETER",
        "STATUS_CALLBACK_URL",
        "SMART_ENCODING",
        "LOOP_GUARD",
        "LOOP_IDENTICAL_TEXTS",
        "LOOP_TEXTS_PER_MINUTE",
        "LOOPS_FILE",
        *timers.TIMER_VARIABLES,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_aws_caches()
    monkeypatch.setattr(config, "_last_reads", {})
    deadlines.end_request()  # a test calling config is no request
    for name, seconds in GENEROUS_DEADLINES.items():
        monkeypatch.setattr(deadlines, name, seconds)
    monkeypatch.setattr(handler, "rejection_log", RejectionLog())
    yield
    clear_aws_caches()


GENEROUS_DEADLINES = {"AWS_BUDGET": 60.0, "SAVE_WINDOW": 60.0}
"""What the tests give the parts of a request around reply code (bounded still by the invocation,
30 s): a shared CI machine may be slow, and only the tests of the deadlines themselves measure
them (`real_deadlines`)."""
REAL_DEADLINES = {name: getattr(deadlines, name) for name in GENEROUS_DEADLINES}


@pytest.fixture
def real_deadlines(monkeypatch):
    """The deadlines as deployed, for the tests of the time rules themselves."""
    for name, seconds in REAL_DEADLINES.items():
        monkeypatch.setattr(deadlines, name, seconds)


def clear_aws_caches() -> None:
    """Forget the AWS clients and what they read: each test sets up its own AWS."""
    aws.client.cache_clear()
    config.ssm_provider.cache_clear()
    idempotency.runner.cache_clear()
    conversation_store.conversations.cache_clear()
    sending.http_client.cache_clear()


@pytest.fixture
def no_aws_configuration(tmp_path, monkeypatch):
    """A machine where AWS was never set up: no credentials or region in the environment, no
    config files, no instance metadata to ask."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


# AWS as the deployed function finds it, in moto


def put_secret(ssm, name: str, value: str) -> None:
    """A SecureString parameter, as the token and the SharedKeys are stored (replacing one)."""
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def store_secrets(ssm) -> None:
    """The token and a SharedKey, where the deployed function reads them."""
    put_secret(ssm, TOKEN_PARAMETER, SSM_TOKEN)
    put_secret(ssm, f"{SHARED_KEYS_PATH}/{SHARED_KEY_ID}", SHARED_KEY_SECRET)


def create_idempotency_table(dynamodb) -> None:
    """The deduplication table as template.yaml creates it."""
    create_table(dynamodb, IDEMPOTENCY_TABLE)


def create_table(dynamodb, name: str) -> None:
    """A table keyed on `id`, billed on demand: each of template.yaml's tables (their TTL aside)."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def aws_account():
    """An AWS account in moto: every AWS call of the test goes there, and nothing is in it."""
    with mock_aws():
        yield


@pytest.fixture
def token_in_ssm(monkeypatch):
    """Deployed configuration: the function reads its token, and SharedKeys, from SSM."""
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PARAMETER", TOKEN_PARAMETER)
    monkeypatch.setenv("TWILIO_SHARED_KEYS_PATH", SHARED_KEYS_PATH)


@pytest.fixture
def ssm(token_in_ssm, aws_account):
    """SSM (moto) holding the token and a SharedKey as SecureStrings: the SSM client."""
    client = boto3.client("ssm")
    store_secrets(client)
    return client


@pytest.fixture
def idempotency_table(aws_account, monkeypatch):
    """The deduplication table (moto), named in the environment: the DynamoDB client."""
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    client = boto3.client("dynamodb")
    create_idempotency_table(client)
    return client


@pytest.fixture
def senders_table(aws_account, monkeypatch):
    """The senders' table (moto), named in the environment: the DynamoDB client."""
    monkeypatch.setenv("SENDERS_TABLE", SENDERS_TABLE)
    client = boto3.client("dynamodb")
    create_table(client, SENDERS_TABLE)
    return client


@pytest.fixture
def deployed(ssm, idempotency_table):
    """All a deployed function reads: its token and a SharedKey in SSM, its deduplication table."""


class Clock:
    """The request clock (`sms_webhook/deadlines.py`): it stands still unless the test moves it,
    or the code under test waits on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Deadlines measured on a clock the test moves (`clock.advance(12)`: reply code took 12 s),
    not on this machine's speed; waits on it take no time."""
    stopped = Clock()
    monkeypatch.setattr(deadlines, "monotonic", lambda: stopped.now)
    monkeypatch.setattr(deadlines, "sleep", stopped.sleep)
    return stopped


@pytest.fixture(scope="session")
def moto_server():
    """A moto server on a loopback port, one per test process: its URL. Stopping a server waits
    for its loop's next turn (half a second), so the tests share one, emptied for each test
    (`empty_moto_server`)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield "http://{}:{}".format(*server.get_host_and_port())
    server.stop()


@pytest.fixture
def empty_moto_server(moto_server):
    """The moto server with nothing in it, and emptied again once the test is over: its URL.
    moto keeps one state per process, whichever server answers and whoever filled it."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    yield moto_server
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()


@pytest.fixture
def aws_on_loopback(empty_moto_server, monkeypatch):
    """AWS as a moto server on a loopback port, reached over real sockets by every boto3 client
    the test makes (`AWS_ENDPOINT_URL`), as concurrent invocations reach DynamoDB: its URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", empty_moto_server)
    return empty_moto_server


@pytest.fixture
def deployed_on_loopback(aws_on_loopback, monkeypatch):
    """The deployed stack's tables and queue, in a moto server on loopback, named in the
    environment as template.yaml names them: the DynamoDB client."""
    dynamodb = boto3.client("dynamodb")
    create_idempotency_table(dynamodb)
    create_table(dynamodb, CONVERSATION_TABLE)
    queue = boto3.client("sqs").create_queue(QueueName="LaterRepliesQueue")["QueueUrl"]
    monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    monkeypatch.setenv("CONVERSATION_TABLE", CONVERSATION_TABLE)
    monkeypatch.setenv("LATER_QUEUE_URL", queue)
    return dynamodb


@pytest.fixture
def atomic_moto(monkeypatch):
    """moto's DynamoDB applying each call at once, as DynamoDB applies a conditional write:
    moto's server answers in threads, and checks a write's condition and stores its item in
    separate steps, between which another thread's write could slip; and it writes its answer
    from the stored item, which another thread's write could change meanwhile (a set added to).
    So both the call and its answer hold one lock (reentrant: the answer makes the call)."""
    lock = threading.RLock()

    def alone(call: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(call)
        def called_alone(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return call(*args, **kwargs)

        return called_alone

    for operation in ("get_item", "put_item", "update_item", "delete_item"):
        for side in (DynamoDBBackend, DynamoHandler):
            monkeypatch.setattr(side, operation, alone(getattr(side, operation)))


@pytest.fixture
def invoke():
    """Run the Lambda function on an event, as Lambda does."""

    def run(event):
        return handler.lambda_handler(event, LambdaContext())

    return run


class RecordingStore(FileStore):
    """A local store that notes each call made to it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[str] = []

    def read(self, key: str) -> Stored:
        self.calls.append("read")
        return super().read(key)

    def write(self, key: str, stored: Stored, expires_at: int) -> None:
        self.calls.append("write")
        super().write(key, stored, expires_at)

    def forget(self, key: str, stored: Stored) -> None:
        self.calls.append("forget")
        super().forget(key, stored)


@pytest.fixture
def store_calls(monkeypatch, tmp_path) -> list[str]:
    """The calls the webhook makes to the conversation store, in order."""
    store = RecordingStore(tmp_path / "conversations.json")
    talks = Conversations(store, ttl_seconds=60 * 60, history_length=10)
    monkeypatch.setattr(conversation_store, "from_environment", lambda: talks)
    return store.calls


@pytest.fixture
def received(answer_with):
    """Replace the reply code with one that records the messages it is called with."""
    messages = []

    def record(message):
        messages.append(message)
        return "ok"

    router = Router()
    router.fallback(record)
    answer_with(router)
    return messages


@pytest.fixture
def answer_with():
    """`answer_with(router)`: the webhook and the worker answer with the test's own router (or
    a router whose every message the function given answers), as a local run says
    (`sms_webhook/local_run.py`), until the test ends: the local run installed, given the router
    and the settings, else a new one."""
    with contextlib.ExitStack() as stack:

        def install(answering: Router | Callable, **settings) -> LocalRun:
            if isinstance(answering, Router):
                router = answering
            else:
                router = Router()
                router.fallback(answering)
            run = local_run.installed()
            if run is None:
                return stack.enter_context(local_run.using(LocalRun(router=router, **settings)))
            for name, value in {"router": router, **settings}.items():
                stack.callback(setattr, run, name, getattr(run, name))
                setattr(run, name, value)
            return run

        yield install


@pytest.fixture
def answering_later(answer_with):
    """`answering_later(reply)`: the webhook and the worker answer with a router whose every
    message is answered later, by `reply`; the router."""

    def install(reply: Callable) -> Router:
        router = Router()
        router.fallback(later=True)(reply)
        answer_with(router)
        return router

    return install


@pytest.fixture
def later_queue(idempotency_table, monkeypatch):
    """The later-replies queue (moto SQS), named in the environment, beside the deduplication
    table that a deployment with a queue has: its URL."""
    url = boto3.client("sqs").create_queue(QueueName="LaterRepliesQueue")["QueueUrl"]
    monkeypatch.setenv("LATER_QUEUE_URL", url)
    return url


SCHEDULE_GROUP = "twilio-sms-webhook-timers"
"""The stack's schedule group, where its timers wait."""
SCHEDULER_ROLE_ARN = "arn:aws:iam::123456789012:role/twilio-sms-webhook-SchedulerRole"
"""The role the Scheduler puts due jobs on the queue with."""
DEAD_LETTER_QUEUE = "LaterRepliesDeadLetterQueue"
"""Where the later-replies queue moves a job that keeps failing."""
JOB_ATTEMPTS = 5
"""The receives of a job before SQS moves it to the dead-letter queue: template.yaml's
`maxReceiveCount` (tests/test_template.py holds it to it)."""


@pytest.fixture
def scheduler(later_queue, monkeypatch):
    """A deployed stack's timers: EventBridge Scheduler (moto) with the stack's schedule group, the
    later-replies queue redriven to its dead-letter queue as template.yaml has them, and the timer
    settings in the environment: the Scheduler client. moto records schedules and never fires
    them: a test delivers what one would (tests/test_timers.py)."""
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    queue_arn, dead_letter_arn = (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for url in (later_queue, dead_letters)
    )
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": JOB_ATTEMPTS}
    sqs.set_queue_attributes(
        QueueUrl=later_queue, Attributes={"RedrivePolicy": json.dumps(redrive)}
    )
    client = boto3.client("scheduler")
    client.create_schedule_group(Name=SCHEDULE_GROUP)
    monkeypatch.setenv("SCHEDULE_GROUP", SCHEDULE_GROUP)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", SCHEDULER_ROLE_ARN)
    monkeypatch.setenv("LATER_QUEUE_ARN", queue_arn)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_ARN", dead_letter_arn)
    return client


@pytest.fixture
def wrote_on_whatsapp():
    """`wrote(person)`: the person wrote to the Twilio number on WhatsApp just now, which opens
    their 24-hour window (as the webhook notes it), in whichever senders' store is configured."""

    def wrote(person: str, at: float | None = None) -> None:
        senders.record_whatsapp_message(f"whatsapp:{TWILIO_NUMBER}", person, at or time.time())

    return wrote


@pytest.fixture
def twilio_api(monkeypatch) -> TwilioMessages:
    """Twilio's Messages API as the worker's REST client reaches it: a recording stand-in."""
    api = TwilioMessages()
    monkeypatch.setattr(sending, "http_client", functools.cache(lambda: api))
    return api


@pytest.fixture
def sending_account(monkeypatch):
    """The stack's `TwilioAccountSid` and `SendFrom`, which a script's texts are sent as."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("SEND_FROM", TWILIO_NUMBER)


@pytest.fixture
def later_router(answer_with) -> Router:
    """Replace the reply code with a router whose every message is answered later, the webhook
    acknowledging it with "Working on it"."""
    router = Router()
    router.fallback(later=True, acknowledgement="Working on it")(lambda message: "done")
    answer_with(router)
    return router


STAFF = "+14155550100"
"""Who `texting_staff`'s handler texts first."""


@pytest.fixture
def texting_staff(answer_with) -> Router:
    """Replace the reply code with a router whose every message is a customer asking for an
    agent: staff get a text sent first (`send_text`), the sender an answer at once."""
    router = Router()

    @router.fallback
    def call_an_agent(message):
        send_text(STAFF, f"A customer asks: {message.body}", key=message.sid)
        return "An agent will text you back shortly."

    answer_with(router)
    return router


REMINDER_KEY = "table"
"""The key `reminding`'s handler sets its reminder under."""


@pytest.fixture
def reminding(answer_with) -> Router:
    """Replace the reply code with a handler that sets a reminder for each message's sender, an
    hour ahead, under `REMINDER_KEY` (`send_text(..., at=)`), and says so."""
    router = Router()

    @router.fallback
    def book(message):
        send_text(
            message.from_number, "Your table is ready", key=REMINDER_KEY, at=timedelta(hours=1)
        )
        return "We will text you when your table is ready."

    answer_with(router)
    return router


@pytest.fixture
def conversing(answer_with):
    """Replace the reply code with a handler that takes the conversation: each message reads it,
    counts itself in its state (so the conversation is written too), and is answered "ok"."""
    router = Router()

    @router.fallback
    def count(message, conversation):
        conversation.state["messages"] = conversation.state.get("messages", 0) + 1
        return "ok"

    answer_with(router)


class Logs:
    """The function's log output, one JSON record per line."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]

    def messages(self) -> list[str]:
        return [record["message"] for record in self.records]


@pytest.fixture(autouse=True)
def logs(capsys, caplog):
    """Every log record of every test, at INFO (tests may lower the level with `setLevel`).

    After each test, everything the function logged, printed (metrics) or handed to Python's
    logging is searched for secrets and full phone numbers: finding one fails the test.
    """
    captured = Logs()
    log_handler = logger.registered_handler
    assert isinstance(log_handler, logging.StreamHandler)  # Powertools' own, to stdout
    previous_stream = log_handler.setStream(captured.stream)
    level = logger.log_level
    yield captured
    logger.setLevel(level)
    log_handler.setStream(previous_stream)

    printed = capsys.readouterr()
    python_records = "\n".join(str(vars(record)) for record in caplog.records)
    everything = "\n".join((captured.text, printed.out, printed.err, python_records))
    assert not leaked(everything), f"logged or printed: {leaked(everything)}"


@pytest.fixture
def published(logs, capsys):
    """Read the metrics the function has published: EMF lines of their own, or in log lines."""
    return lambda: emitted_metrics(f"{logs.text}\n{capsys.readouterr().out}")


@pytest.fixture
def public_token(monkeypatch):
    """`make run` without TWILIO_AUTH_TOKEN: signatures checked with env.json's public token.
    Request it before `local_server`, which reads the token when it starts."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", development_token())
    return development_token()


@pytest.fixture
def under_make(monkeypatch):
    """The tool runs as make starts it (`make send`): its messages name make's targets."""
    monkeypatch.setenv("MAKELEVEL", "1")


@pytest.fixture
def by_hand(monkeypatch):
    """The tool runs as `python -m devtools....`, whatever make runs the tests: its messages
    name the same commands, never make's."""
    for name in OUTER_MAKE:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def local_server():
    """`make run`'s server on a free loopback port, serving the function from a thread."""
    server = WebhookServer(0, handler.lambda_handler)
    # Stopping waits for the loop's next turn: a short one, as `make run`'s own.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_run(tmp_path):
    """`make run` started in real processes on a copy of the project, which the test may edit."""
    server = RunningServer(copy_of_project(tmp_path))
    yield server
    server.close()
