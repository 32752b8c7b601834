"""`make send`: text the webhook that `make run` serves, as Twilio would, and print its replies.

    make send BODY="price"                               # python -m devtools.send price
    make send BODY="hi" FROM=+447700900123               # as another sender
    make send BODY="look" MEDIA=https://example.com/cat.jpg   # an MMS

The request is the one Twilio makes for a new text: every field, a new MessageSid each time, and
the signature, made with the token `make run` checks (`TWILIO_AUTH_TOKEN`, else env.json's public
test token) for the URL the server rebuilds (https://127.0.0.1:PORT/sms, or
`TWILIO_WEBHOOK_URL`). The answer's messages are printed as text, not XML, each that costs more
than one plain SMS segment followed by what it costs (`[2 SMS segments, UCS-2]`), then a line for
each timer the answer set (`(timer set: survey_nudge for +1…34#5f2c9a1e in 1h)`), as `make run`
keeps them in its file (devtools/kept_timers.py).
"""

import argparse
import http.client
import mimetypes
import sys
import time
from collections.abc import Sequence
from http import HTTPStatus
from urllib.parse import urlsplit

from devtools.commands import as_started
from devtools.console import template_shown, timer_due
from devtools.kept_timers import kept, timers_file
from devtools.local_port import add_port_argument, serve_command, signed_url
from devtools.local_token import development_token, local_token
from devtools.twilio_message import (
    SENDER,
    form_encode,
    message_fields,
    new_message_sid,
    twilio_signature,
)
from devtools.twiml_answer import NotTwimlError, OutgoingMessage, twiml_messages
from devtools.webhook_server import CANNOT_IMPORT
from sms_webhook.jobs import Job
from sms_webhook.local_files import LocalFileRefusedError
from sms_webhook.segments import UCS_2, billed_segments

TIMEOUT_SECONDS = 15
"""As long as Twilio waits for an answer."""
DEFAULT_MEDIA_TYPE = "image/jpeg"
"""The commonest attachment, for a URL whose name tells nothing (as Twilio's media URLs)."""


class SendError(Exception):
    """The text could not be delivered or was not answered; the message says what to do."""


def send(
    body: str,
    *,
    port: int,
    from_number: str = SENDER,
    media: Sequence[tuple[str, str]] = (),
) -> list[OutgoingMessage]:
    """Text `body` to the server on `port`, signed as Twilio signs it; the messages it answers."""
    fields = message_fields(
        body, from_number=from_number, media=list(media), sid=new_message_sid(media)
    )
    token = local_token()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": twilio_signature(signed_url(port), fields, token),
    }
    address = f"http://127.0.0.1:{port}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", "/sms", body=form_encode(fields).encode(), headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except ConnectionRefusedError:
        raise SendError(
            f"nothing listens on {address}: start it with {serve_command(port)}"
        ) from None
    except TimeoutError:
        raise SendError(
            f"{address} did not answer within {TIMEOUT_SECONDS} s (Twilio would give up too): "
            f"see {_server()}'s output"
        ) from None
    except OSError as error:
        raise SendError(f"could not reach {address}: {error.strerror or error}") from None
    finally:
        connection.close()
    if response.status != HTTPStatus.OK:
        reason = payload.decode(errors="replace").strip() or response.reason
        raise SendError(f"{response.status} {reason}{_hint(response.status, reason, token)}")
    try:
        return twiml_messages(payload)
    except NotTwimlError as error:
        raise SendError(f"{address} answered 200, but {error}") from None


def _hint(status: int, reason: str, token: str) -> str:
    """What to check after a refusal, given the token the text was signed with."""
    if status == HTTPStatus.FORBIDDEN:
        signed_with = (
            "the public test token from env.json"
            if token == development_token()
            else "your TWILIO_AUTH_TOKEN"
        )
        sender = as_started("make send", "devtools.send")
        return (
            f"\n({sender} signed it with {signed_with}: give {sender} and {_server()} the same "
            "TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL, or neither)"
        )
    if reason.startswith(CANNOT_IMPORT):
        return f"\n(save a fix: {_server()} restarts by itself)"
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return f"\n(the traceback, if reply code raised, is in {_server()}'s output)"
    return ""


def _server() -> str:
    return as_started("make run", "devtools.serve")


def printed(messages: list[OutgoingMessage], to: str) -> str:
    """The replies to `to` as a person reads them: each message's text (a message's further
    lines indented), its media URLs, and its cost when it is more than one segment or UCS-2, or
    the template it is sent from; or a line saying there is no reply."""
    if not messages:
        return (
            "(no reply: the webhook answered an empty <Response/>; make run's line says so when "
            "the loop guard held it back)"
        )
    lines = []
    for message in messages:
        if message.template:  # its text is Twilio's: what it is made from, and no cost known
            lines.append(template_shown(message.template, message.variables))
            continue
        first, *rest = message.text.split("\n")
        lines += [first, *(f"  {line}" for line in rest)]
        lines += [f"  [media] {url}" for url in message.media]
        lines += _cost(message, to)
    return "\n".join(lines)


def _cost(message: OutgoingMessage, to: str) -> list[str]:
    """`  [2 SMS segments, UCS-2]` for a message billed as more than one segment, or in UCS-2:
    what a developer would not see on a phone. Nothing for one GSM-7 segment, an MMS or a
    WhatsApp message (priced per message)."""
    count, encoding = billed_segments(message.text, message.media, to)
    if count > 1 or encoding == UCS_2:
        return [f"  [{count} SMS segment{'s' if count > 1 else ''}, {encoding}]"]
    return []


def timers_kept() -> dict[str, Job]:
    """The timers `make run` keeps, by name; none when its file cannot be read: a line about
    timers is not worth a failed send."""
    try:
        return kept(timers_file())
    except (OSError, ValueError, LocalFileRefusedError):  # make run says why when it reads it
        return {}


def timers_set(before: dict[str, Job]) -> list[str]:
    """A line for each timer kept now that was not `before` (those the answer set), the
    soonest first."""
    now = time.time()
    new = [job for name, job in timers_kept().items() if name not in before]
    new.sort(key=lambda job: job.queued_at)
    return [f"(timer set: {timer_due(job, now)})" for job in new]


def media_type(url: str, given: str | None) -> str:
    return given or mimetypes.guess_type(urlsplit(url).path)[0] or DEFAULT_MEDIA_TYPE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.send",
        description="Text the webhook that `make run` serves, signed as Twilio signs it, and "
        "print the replies.",
    )
    parser.add_argument("body", help="the text of the message")
    parser.add_argument(
        "--from",
        dest="from_number",
        default=SENDER,
        metavar="NUMBER",
        help=f"the sender (default: {SENDER})",
    )
    parser.add_argument("--media", metavar="URL", help="a picture or file: the text is an MMS")
    parser.add_argument(
        "--media-type",
        metavar="TYPE",
        help=f"its content type (default: guessed from the URL, else {DEFAULT_MEDIA_TYPE})",
    )
    add_port_argument(parser)
    arguments = parser.parse_args(argv)
    if not arguments.from_number.strip():
        parser.error("FROM is empty: give a number such as +14155551234")
    media = []
    if arguments.media:
        if urlsplit(arguments.media).scheme not in ("http", "https"):
            parser.error(f"MEDIA must be an http(s) URL, not {arguments.media!r}")
        media.append((arguments.media, media_type(arguments.media, arguments.media_type)))
    before = timers_kept()
    try:
        messages = send(
            arguments.body, port=arguments.port, from_number=arguments.from_number, media=media
        )
    except SendError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    print("\n".join([printed(messages, arguments.from_number), *timers_set(before)]))


if __name__ == "__main__":
    main()
