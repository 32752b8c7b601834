"""Every event the benchmark hands a contender: signed messages of varied texts, the forged
requests that cost the project most to refuse, new messages for each loop of the later replies,
and the SQS event of one later reply for the worker. All signed with the benchmark's own token."""

from devtools.make_event import API_DOMAIN, LATER_HANDLER, STAGE_PATH, signed_event
from devtools.proxy_events import Event, Target, rest_event
from devtools.queue_events import sqs_event
from devtools.twilio_message import (
    form_encode,
    largest_message_fields,
    message_fields,
    twilio_signature,
)
from sms_webhook.form import MAX_FIELDS, MAX_FORM_SIZE, MAX_QUERY_SIZE
from sms_webhook.jobs import ReplyJob, encode
from sms_webhook.proxy_event import MAX_ENTRIES

TOKEN = "benchmark-token-0123456789abcdef"  # signs the benchmark's events only
BODIES = [
    "Hi!",
    "Are you free for a quest today?",
    "こんにちは、元気ですか",
    "Meet me at the tavern at 7 🍺",
    "x" * 160,
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 4,
    "ok",
    "Can you send the map? The old one, with the dragon's lair marked on it.",
]
LATER_BODIES = ["REPORT", "report please"]
"""Texts the shipped replies.py answers later (its `REPORT` example)."""


def worst_forged_events() -> dict[str, Event]:
    """Forged requests that cost the project the most to refuse: each as large as its limits
    allow, in the shape that costs most to read (percent escapes, many fields, many headers, a
    GET whose query is re-encoded), and Twilio's largest real request, forged."""
    url = f"https://{API_DOMAIN}{STAGE_PATH}"
    target = Target(API_DOMAIN, "/sms", STAGE_PATH)
    largest = largest_message_fields()
    escapes_per_field = MAX_FORM_SIZE // MAX_FIELDS // 3 - 2
    bodies = {
        "escapes": "Body=" + "%F0%9F%98%80" * ((MAX_FORM_SIZE - 5) // 12),
        "short escape runs": "Body=" + "a%41" * ((MAX_FORM_SIZE - 5) // 4),
        "most fields, all escaped": "&".join(
            f"F%{n:02X}=" + "%41" * escapes_per_field for n in range(MAX_FIELDS)
        ),
        "largest real request": form_encode(largest),
    }
    headers = [
        ("Host", API_DOMAIN),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Twilio-Signature", twilio_signature(url, largest, "not-the-token")),
    ]
    events = {
        name: rest_event("POST", target, headers=headers, body=body.encode(), base64_body=True)
        for name, body in bodies.items()
    }
    most_headers = [(f"X-Header-{n}", "x" * 50) for n in range(MAX_ENTRIES - len(headers))]
    events["most headers"] = rest_event(
        "POST",
        target,
        headers=[*headers, *most_headers],
        body=bodies["largest real request"].encode(),
        base64_body=True,
    )
    query = form_encode([("Body", "語" * ((MAX_QUERY_SIZE - 6) // 9))])  # 9 characters encoded
    events["GET of the longest query"] = rest_event("GET", target, headers=headers, query=query)
    every_way = "' :*"  # each of the query strings tried differs (sms_webhook/urls.py)
    text = every_way + "語" * ((MAX_QUERY_SIZE - 6 - len(every_way)) // 9)
    query = form_encode([("Body", text)])
    events["GET of the longest query, written 5 ways"] = rest_event(
        "GET", target, headers=headers, query=query
    )
    return events


def messages_each_loop(bodies: list[str], loops: int) -> list[list[Event]]:
    """Signed events of these texts, new ones for each loop (and one more for the cold start):
    with deduplication on, a message seen before would be answered from its record."""
    return [[signed_event(f"{body} {n}", token=TOKEN) for body in bodies] for n in range(loops + 1)]


def reply_job_event(round_number: int) -> Event:
    """The SQS event of one later reply to `REPORT`, as the webhook queues it; a message of its
    own each round, so that the worker's records of earlier rounds do not answer for it."""
    fields = tuple(message_fields("REPORT", sid=f"SM{round_number:032x}"))
    job = ReplyJob(fields, f"https://{API_DOMAIN}/Prod/status", handler=LATER_HANDLER)
    return sqs_event([encode(job)])
