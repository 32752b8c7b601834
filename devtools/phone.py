"""A phone that texts your bot, for your tests: the replies come back as a list of texts.

    from devtools.phone import Phone

    def test_the_survey_asks_two_questions_then_thanks():
        phone = Phone()
        assert phone.send("SURVEY") == ["Two quick questions. 1/2: how did you hear about us?"]
        assert phone.send("a friend")[0].startswith("2/2")
        assert phone.send("5") == ["Thanks! You heard of us through 'a friend' and gave us 5."]

Each text goes through the real webhook (`handler.lambda_handler`), as the event API Gateway
makes of Twilio's request, signed as Twilio signs it, with a new MessageSid: the signature check
and your handlers run as deployed. Nothing reaches AWS, whatever your shell exports (see
`AWS_SETTINGS`), so deduplication, which needs its DynamoDB table (`IDEMPOTENCY_TABLE`), is off,
as in `make run`. The phone's conversation lasts as long as the phone (a file of its own, in a
temporary folder removed with the phone), so state carries from one send to the next.
"""

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from devtools.lambda_context import LambdaContext
from devtools.local_token import development_token
from devtools.proxy_events import Target, rest_event
from devtools.twilio_message import (
    SENDER,
    TWILIO_NUMBER,
    form_encode,
    message_fields,
    new_message_sid,
    twilio_signature,
)
from devtools.twiml_answer import OutgoingMessage, twiml_messages
from sms_webhook.conversation_store import FileStore, conversation_key

HOST = "phone.test"
URL = f"https://{HOST}/sms"
AWS_SETTINGS = (
    "TWILIO_AUTH_TOKEN_PARAMETER",
    "TWILIO_SHARED_KEYS_PATH",
    "IDEMPOTENCY_TABLE",
    "CONVERSATION_TABLE",
)
"""The settings (sms_webhook/config.py) that send the webhook to SSM or DynamoDB: unset while the
phone texts, whatever your shell exports, so that a test never reaches AWS."""


class Phone:
    """One sender texting your Twilio number, on a channel (`sms`, `whatsapp`...)."""

    def __init__(
        self,
        number: str = SENDER,
        *,
        channel: str = "sms",
        twilio_number: str = TWILIO_NUMBER,
        conversations: Path | None = None,
    ) -> None:
        prefix = "" if channel == "sms" else f"{channel}:"
        self.address = f"{prefix}{number}"
        self.twilio_address = f"{prefix}{twilio_number}"
        if conversations is None:  # a folder of its own, removed with the phone
            folder = tempfile.mkdtemp(prefix="phone-")
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            conversations = Path(folder) / "conversations.json"
        self.conversations = conversations
        self.last: list[OutgoingMessage] = []
        """The messages of the last answer, with their media."""

    def send(self, text: str, *, media: Sequence[tuple[str, str]] = (), **fields: str) -> list[str]:
        """The texts the bot answers `text` with (none for no reply).

        `media`: (URL, content type) pairs, for an MMS; `fields`: more of Twilio's fields, as
        Twilio names them (`ProfileName="Ada"`, `ButtonPayload="YES"`).
        """
        with self._environment() as token:
            import handler  # once the environment it reads is set

            event = self.event_for(text, token, media=media, **fields)
            answer = handler.lambda_handler(event, LambdaContext())
        if answer["statusCode"] != HTTPStatus.OK:
            raise AssertionError(f"the webhook answered {answer['statusCode']}: {answer['body']}")
        self.last = twiml_messages(answer["body"])
        return [message.text for message in self.last]

    def forget(self) -> None:
        """Forget this phone's conversation, as if it had never texted."""
        store = FileStore(self.conversations)
        key = conversation_key(self.twilio_address, self.address)
        store.forget(key, store.read(key).version)

    def event_for(
        self, text: str, token: str, *, media: Sequence[tuple[str, str]] = (), **fields: str
    ) -> dict[str, Any]:
        """The event of this phone's next text, signed with `token`, with a new MessageSid."""
        all_fields = [
            *message_fields(
                text,
                from_number=self.address,
                to_number=self.twilio_address,
                media=media,
                sid=new_message_sid(media),
            ),
            *fields.items(),
        ]
        url = os.environ.get("TWILIO_WEBHOOK_URL") or URL  # the URL the webhook will check
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", HOST),
            ("X-Twilio-Signature", twilio_signature(url, all_fields, token)),
        ]
        target = Target(HOST, "/sms", "/sms")
        body = form_encode(all_fields).encode()
        return rest_event("POST", target, headers=headers, body=body)

    @contextmanager
    def _environment(self) -> Iterator[str]:
        """The token the webhook checks (yours, or the public test one), this phone's
        conversations and none of the `AWS_SETTINGS`, for the time of one send."""
        names = ("TWILIO_AUTH_TOKEN", "CONVERSATION_FILE", *AWS_SETTINGS)
        saved = {name: os.environ.get(name) for name in names}
        token = saved["TWILIO_AUTH_TOKEN"] or development_token()
        os.environ["TWILIO_AUTH_TOKEN"] = token
        os.environ["CONVERSATION_FILE"] = str(self.conversations)
        for name in AWS_SETTINGS:
            os.environ.pop(name, None)
        try:
            yield token
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
