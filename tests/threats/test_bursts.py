"""Threat: a burst of messages from one sender. A WhatsApp album comes as one webhook per picture,
all at the same moment: their handlers read the same conversation, and all but one find it
changed when they write.

Every change of a handler whose change depends only on the conversation and the message is
kept: each message that finds the conversation changed waits for its turn and runs once more on
what the messages before it left. Each message is answered within the 15 s Twilio waits.
Concurrent invocations are threads calling the function, against DynamoDB as a moto server on
loopback (deployed) or the local file.
"""

import json
import threading
import time

import pytest

import handler
from devtools.lambda_context import LambdaContext
from devtools.twilio_message import WHATSAPP_NUMBER, WHATSAPP_SENDER, whatsapp_fields
from sms_webhook import deadlines
from sms_webhook.conversation import conversation_key
from sms_webhook.conversation_store import FileStore
from sms_webhook.router import Router
from tests.conftest import CONVERSATION_TABLE
from tests.support.twilio_requests import REST_URL, rest_request, signed

ALBUMS = [10, 20]
"""Pictures in an album: WhatsApp sends up to 30 at once; Twilio delivers a webhook for each."""
KEY = conversation_key(WHATSAPP_NUMBER, WHATSAPP_SENDER)
WEBHOOK_TIME = deadlines.WEBHOOK_TIMEOUT * 1000
"""The invocation's time, in milliseconds, as the template gives the webhook."""


def album(pictures: int) -> list[dict]:
    """The webhooks of an album, one per picture, each with its caption and its MessageSid."""
    events = []
    for number in range(1, pictures + 1):
        picture = (f"https://api.twilio.com/2010-04-01/Media/ME{number:032x}", "image/jpeg")
        fields = whatsapp_fields(f"picture {number}", media=[picture])
        events.append(signed(rest_request(fields=fields), REST_URL, fields))
    return events


def captions(pictures: int) -> list[str]:
    return [f"picture {number}" for number in range(1, pictures + 1)]


class Answered:
    """An invocation's answer, and the seconds it took from its start."""

    def __init__(self, response: dict, seconds: float) -> None:
        self.response = response
        self.seconds = seconds


def all_at_once(events: list[dict]) -> list[Answered]:
    """Each event given to the function in a thread of its own, all let go together."""
    start = threading.Barrier(len(events))
    answers: list[Answered | None] = [None] * len(events)

    def invoke(index: int) -> None:
        start.wait(timeout=30)
        started = time.monotonic()
        response = handler.lambda_handler(events[index], LambdaContext(WEBHOOK_TIME))
        answers[index] = Answered(response, time.monotonic() - started)

    threads = [threading.Thread(target=invoke, args=(index,)) for index in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answers), "an invocation did not return"
    return answers  # type: ignore[return-value]


@pytest.fixture
def collecting(monkeypatch, answer_with) -> list[str]:
    """Reply code that adds each message's caption to a list in the conversation's state, and
    answers with the list's length: a change that depends on the state and the message alone.
    The captions it ran on, once per run."""
    runs: list[str] = []
    router = Router()

    @router.fallback
    def collect(message, conversation):
        runs.append(message.body)
        captions = conversation.state.setdefault("captions", [])
        captions.append(message.body)
        return f"{len(captions)} pictures so far"

    answer_with(router)
    return runs


@pytest.fixture
def deployed_conversations(deployed_on_loopback, atomic_moto):
    """The deployed stack's tables in a moto server on loopback: the conversation's state, as
    the table holds it, once the test has run."""
    return lambda: json.loads(
        deployed_on_loopback.get_item(
            TableName=CONVERSATION_TABLE, Key={"id": {"S": KEY}}, ConsistentRead=True
        )["Item"]["state"]["S"]
    )


@pytest.fixture
def local_conversations(tmp_path):
    """The local file of conversations (`make run`, `make chat`): the conversation's state, as
    the file holds it, once the test has run."""
    return lambda: json.loads(FileStore(tmp_path / "conversations.json").read(KEY).state)


@pytest.fixture(
    params=[pytest.param("deployed_conversations", marks=pytest.mark.slow), "local_conversations"]
)
def conversation_state(request):
    """Each store: the deployed one, the local one."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def patient_twilio(monkeypatch):
    """Twilio waiting longer than 15 s: what the tests of kept changes measure does not then
    depend on how busy this machine is (the test of answers in time keeps the 15 s)."""
    monkeypatch.setattr(deadlines, "TWILIO_WAIT", 120.0)


@pytest.mark.usefixtures("patient_twilio")
@pytest.mark.parametrize("pictures", ALBUMS)
def test_an_album_keeps_every_picture_in_the_conversation(conversation_state, collecting, pictures):
    all_at_once(album(pictures))

    assert sorted(conversation_state()["captions"]) == sorted(captions(pictures))


@pytest.mark.parametrize("pictures", ALBUMS)
def test_every_picture_of_an_album_is_answered_within_twilios_wait(
    conversation_state, collecting, pictures
):
    answers = all_at_once(album(pictures))

    assert [answer.response["statusCode"] for answer in answers] == [200] * pictures
    assert all("pictures so far</Message>" in answer.response["body"] for answer in answers)
    assert max(answer.seconds for answer in answers) < deadlines.TWILIO_WAIT


@pytest.mark.usefixtures("patient_twilio")
@pytest.mark.parametrize("pictures", ALBUMS)
def test_each_picture_of_an_album_runs_its_handler_twice_at_most(
    conversation_state, collecting, pictures
):
    all_at_once(album(pictures))

    assert max(collecting.count(caption) for caption in captions(pictures)) <= 2
