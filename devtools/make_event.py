"""Make signed sample events for `sam local invoke`, as API Gateway would deliver Twilio's request.

    python -m devtools.make_event --body "hello"                 # prints it
    python -m devtools.make_event --body "hello" --name hello    # writes events/hello.json
    python -m devtools.make_event --get --media https://example.com/cat.jpg image/jpeg
    python -m devtools.make_event --channel whatsapp --body "hi"  # from whatsapp:+14155551234
    python -m devtools.make_event --channel whatsapp --body "" --location=37.7955,-122.3937
    python -m devtools.make_event --channel whatsapp --body "Yes" --button CONFIRM
    python -m devtools.make_event --samples      # rewrite the samples in events/

Your own events may sit in events/ beside the samples: the samples' names are kept for the samples.

Events are signed with `TWILIO_AUTH_TOKEN` when it is set, else with env.json's test token (the
samples always with the latter), for the deployed stage URL (`https://abc123defg.execute-api.us-east-1.amazonaws.com/Prod/sms`).
One sample is the worker's: the SQS event of the job the webhook queues for a message to a later
handler (`later-reply`).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NotRequired, TypedDict

from devtools.local_token import development_token, local_token
from devtools.paths import PROJECT
from devtools.proxy_events import Event, Stamp, Target, rest_event
from devtools.queue_events import sqs_event
from devtools.twilio_message import (
    message_fields,
    query_and_body,
    twilio_signature,
    whatsapp_fields,
)
from sms_webhook.form import decode_body, parse_form
from sms_webhook.jobs import ReplyJob, encode
from sms_webhook.message import Button, Location, coordinates

EVENTS = PROJECT / "events"
API_DOMAIN = "abc123defg.execute-api.us-east-1.amazonaws.com"
STAGE_PATH = "/Prod/sms"
STATUS_URL = f"https://{API_DOMAIN}/Prod/status"
"""Where the webhook asks Twilio to report deliveries, beside the stage URL."""
FORGED_TOKEN = "not-the-auth-token"  # noqa: S105 - signs the sample that must be refused

MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM01/Media"


class Sample(TypedDict):
    """What `signed_event` makes a sample of: its text, and what else it is given."""

    body: str
    get: NotRequired[bool]
    media: NotRequired[list[tuple[str, str]]]
    forged: NotRequired[bool]
    channel: NotRequired[str]
    location: NotRequired[Location]


SAMPLES: dict[str, Sample] = {
    "sms": {"body": "Hi! Are you free for a quest today? 🗡️"},
    "sms-get": {"body": "Hi! Are you free for a quest today? 🗡️", "get": True},
    "mms": {
        "body": "Look at these two",
        "media": [
            (f"{MEDIA_URL}/ME01", "image/jpeg"),
            (f"{MEDIA_URL}/ME02", "video/mp4"),
        ],
    },
    "bad-signature": {"body": "Let me in", "forged": True},
    "whatsapp": {"body": "Hello from WhatsApp 👋", "channel": "whatsapp"},
    "whatsapp-location": {
        "body": "",
        "channel": "whatsapp",
        "location": Location(
            37.7955, -122.3937, "1 Ferry Building, San Francisco, CA 94111", "Ferry Building"
        ),
    },
}

WORKER_SAMPLES = {"later-reply": {"body": "REPORT on my texts, please"}}
"""The worker's samples: the job queued for an SMS with this body (signed as the samples above)."""
LATER_HANDLER = "report"
"""The later handler the worker's sample runs: `REPORT`, the example in replies.py."""
SAMPLE_NAMES = (*SAMPLES, *WORKER_SAMPLES)

CHANNELS = ("sms", "whatsapp")


class WhatsAppOnlyError(ValueError):
    """An SMS was asked for with what only a WhatsApp message has."""


def signed_event(
    body: str,
    *,
    get: bool = False,
    media: Sequence[tuple[str, str]] = (),
    forged: bool = False,
    token: str | None = None,
    channel: str = "sms",
    location: Location | None = None,
    button: Button | None = None,
) -> Event:
    """API Gateway's event for Twilio's request to the deployed webhook, signed with `token`:
    an SMS or MMS, or a WhatsApp message (`channel`), which may share a `location` or press a
    `button`."""
    method = "GET" if get else "POST"
    if channel == "whatsapp":
        fields = whatsapp_fields(body, media=list(media), location=location, button=button)
    elif location or button:
        raise WhatsAppOnlyError(
            "a location or a button is WhatsApp's: add --channel whatsapp (make: CHANNEL=whatsapp)"
        )
    else:
        fields = message_fields(body, media=list(media))
    sid = dict(fields)["MessageSid"]
    query, form_body = query_and_body(method, fields)
    url = f"https://{API_DOMAIN}{STAGE_PATH}" + (f"?{query}" if query else "")
    signing_token = FORGED_TOKEN if forged else token or local_token()
    signature = twilio_signature(url, [] if get else fields, signing_token)
    headers = [
        ("Accept", "*/*"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Host", API_DOMAIN),
        ("I-Twilio-Idempotency-Token", f"{sid[2:10]}-idempotency"),
        ("User-Agent", "TwilioProxy/1.1"),
        ("X-Forwarded-For", "54.172.60.1"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
        ("X-Twilio-Signature", signature),
    ]
    return rest_event(
        method,
        Target(API_DOMAIN, "/sms", STAGE_PATH),
        headers=headers,
        query=query,
        body=form_body,
        base64_body=not get,
        stamp=Stamp(f"{sid[2:10]}-0000-4000-8000-000000000000", epoch=1795708800),
    )


def later_reply_event(body: str) -> Event:
    """The SQS event that brings the worker the job the webhook queues for the signed SMS with
    this body when a later handler (`LATER_HANDLER`) takes it: the fields of the message's event,
    the handler's name, and the /status URL deliveries are reported to. Without the time it was
    queued: the sample never grows too old to run."""
    message = signed_event(body, token=development_token())
    fields = parse_form(decode_body(message["body"], message["isBase64Encoded"]))
    pairs = tuple((name, value) for name, values in fields.items() for value in values)
    job = json.loads(encode(ReplyJob(pairs, STATUS_URL, handler=LATER_HANDLER)))
    del job["queued_at"]
    sid = fields.first("MessageSid")
    return sqs_event([json.dumps(job)], message_ids=[f"{sid[2:10]}-0000-4000-8000-000000000000"])


def sample_event(name: str) -> Event:
    """The sample `make events` writes as events/<name>.json."""
    if name in WORKER_SAMPLES:
        return later_reply_event(**WORKER_SAMPLES[name])
    return signed_event(**SAMPLES[name], token=development_token())


def to_json(event: Event) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def write(event: Event, name: str) -> None:
    path = EVENTS / f"{name}.json"
    path.write_text(to_json(event), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


def write_samples() -> None:
    for name in SAMPLE_NAMES:
        write(sample_event(name), name)


def event_name(name: str) -> str:
    """A name for events/<name>.json that is neither a path nor a sample's (the samples are
    rewritten by `make events` and checked by the tests)."""
    if name in SAMPLE_NAMES:
        raise argparse.ArgumentTypeError(f"{name} is a sample's name; choose another")
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise argparse.ArgumentTypeError(f"{name!r} is not a file name (hello, order-42...)")
    return name


def location_argument(text: str) -> Location:
    """A place given as `LATITUDE,LONGITUDE` in degrees."""
    latitude, _, longitude = text.partition(",")
    place = coordinates(latitude.strip(), longitude.strip())
    if place is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not LATITUDE,LONGITUDE in degrees (37.7955,-122.3937)"
        )
    return Location(*place)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body", default="Hello from Twilio", help="the text of the message")
    parser.add_argument("--get", action="store_true", help="a GET webhook (fields in the URL)")
    parser.add_argument(
        "--media", nargs=2, action="append", default=[], metavar=("URL", "TYPE"), help="attach"
    )
    parser.add_argument("--forged", action="store_true", help="sign with the wrong token")
    parser.add_argument("--channel", choices=CHANNELS, default="sms", help="how it was sent")
    parser.add_argument(
        "--location", type=location_argument, metavar="LAT,LON", help="share a place (WhatsApp)"
    )
    parser.add_argument(
        "--button", metavar="PAYLOAD", help="press a quick-reply button whose text is the body"
    )
    parser.add_argument("--samples", action="store_true", help="rewrite the samples in events/")
    parser.add_argument(
        "--name", type=event_name, help="write events/NAME.json instead of printing the event"
    )
    args = parser.parse_args(argv)
    if args.samples:
        write_samples()
        return
    try:
        event = signed_event(
            args.body,
            get=args.get,
            media=[tuple(m) for m in args.media],
            forged=args.forged,
            channel=args.channel,
            location=args.location,
            button=Button(args.body, args.button) if args.button is not None else None,
        )
    except WhatsAppOnlyError as error:
        parser.error(str(error))
    if args.name:
        write(event, args.name)
    else:
        sys.stdout.write(to_json(event))


if __name__ == "__main__":
    main()
