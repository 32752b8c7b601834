"""`make phone`'s routes, served by `make run`'s server: what the page may do, and who may not.

The page itself is driven in a real browser in tests/test_phone_page.py."""

import http.client
import json
import sys
import threading
import webbrowser

import pytest

from devtools import phone_twilio
from devtools.phone_journal import Event, Journal
from devtools.phone_server import PhoneApp, open_page
from devtools.phone_twilio import statuses
from sms_webhook import IncomingMessage, Router, local_run
from sms_webhook.local_run import LocalRun
from tests.support.local_project import eventually


@pytest.fixture
def phone(local_server, tmp_path, monkeypatch):
    """The phone's routes on `make run`'s server, its files in the test's own folder."""
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "outbox.jsonl"))
    monkeypatch.setattr(phone_twilio, "STEP_SECONDS", 0.01)  # no need to watch them change
    app = PhoneApp(
        local_server.server_port,
        journal=tmp_path / "phone.jsonl",
        media=tmp_path / "media",
        outbox=tmp_path / "outbox.jsonl",
    )
    local_server.phone = app
    with app.running():
        yield app


def request(
    phone: PhoneApp, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """The answer to a request, read whole; from the page's own origin unless told otherwise."""
    own = f"127.0.0.1:{phone.port}"
    connection = http.client.HTTPConnection("127.0.0.1", phone.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Host": own, **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def from_the_page(
    phone: PhoneApp, path: str, value: object, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    origin = f"http://127.0.0.1:{phone.port}"
    body = json.dumps(value).encode()
    headers = {"Origin": origin, "Content-Type": "application/json", **headers}
    return request(phone, "POST", path, body, **headers)


def events(phone: PhoneApp) -> list[Event]:
    return [event for _, event in phone.journal.read(0)]


def test_a_text_goes_through_the_webhook_and_its_reply_is_delivered_through_status(phone):
    status, _, _ = from_the_page(
        phone, "/phone/send", {"number": "+14155550100", "channel": "sms", "text": "HOURS"}
    )

    assert status == 200
    sent, answer = events(phone)[:2]  # the statuses follow
    assert (sent["kind"], sent["text"], sent["thread"]) == ("in", "HOURS", "+14155550100")
    [reply] = answer["messages"]
    assert reply["text"] == "We're open 9am to 5pm, Monday to Friday."
    assert reply["segments"] == [1, "GSM-7"]
    assert answer["line"].endswith('→ "HOURS" ⇒ "We\'re open 9am to 5pm, Monday to Friday."')

    def reported() -> list[Event]:
        return [e for e in events(phone) if e["kind"] == "status" and e["sid"] == reply["sid"]]

    assert eventually(lambda: len(reported()) == 3)
    assert [(e["status"], e["http"]) for e in reported()] == [
        (status, 200) for status in statuses(fail=False)
    ]


def test_a_failure_asked_for_fails_the_next_reply_only(phone):
    from_the_page(phone, "/phone/fail-next", {"fail": True})
    from_the_page(phone, "/phone/send", {"number": "+14155550100", "channel": "sms", "text": "hi"})
    from_the_page(phone, "/phone/send", {"number": "+14155550100", "channel": "sms", "text": "hi"})

    answers = [e["messages"][0]["sid"] for e in events(phone) if e["kind"] == "answer"]
    last: dict[str, str] = {}

    def settled() -> bool:
        last.update({e["sid"]: e["status"] for e in events(phone) if e["kind"] == "status"})
        return all(sid in last and last[sid] != "queued" and last[sid] != "sent" for sid in answers)

    assert eventually(settled)
    assert [last[sid] for sid in answers] == ["failed", "delivered"]


def test_a_whatsapp_button_and_location_are_sent_as_whatsapp_sends_them(phone):
    whatsapp = {"number": "+14155550100", "channel": "whatsapp"}
    from_the_page(
        phone, "/phone/send", {**whatsapp, "text": "Yes", "button": {"text": "Yes", "payload": "Y"}}
    )
    place = {"latitude": "37.7955", "longitude": "-122.3937", "label": "Ferry Building"}
    from_the_page(phone, "/phone/send", {**whatsapp, "text": "", "location": place})

    pressed, shared = [event for event in events(phone) if event["kind"] == "in"]
    assert pressed["thread"] == "whatsapp:+14155550100"
    assert pressed["button"] == "Yes"
    assert shared["location"] == "Ferry Building · 37.7955, -122.3937"


def test_a_text_sent_first_from_the_outbox_is_shown_with_its_template(phone, tmp_path):
    line: dict[str, object] = {
        "to": "+14155550199",
        "sender": "+15005550006",
        "body": "Your table is ready",
        "media": [],
        "status_callback": None,
        "sid": "SM" + "1" * 32,
        "template": "HX" + "2" * 32,
        "variables": {"1": "Ada"},
    }
    with (tmp_path / "outbox.jsonl").open("a") as outbox:
        outbox.write(json.dumps(line) + "\n")

    assert eventually(lambda: any(e["kind"] == "sent" for e in events(phone)))
    [sent] = [e for e in events(phone) if e["kind"] == "sent"]
    assert (sent["thread"], sent["text"], sent["template"]) == (
        "+14155550199",
        "Your table is ready",
        "HX" + "2" * 32,
    )
    assert sent["variables"] == {"1": "Ada"}


def test_an_error_of_reply_code_is_shown_with_its_traceback(phone, tmp_path):
    router = Router()

    @router.fallback
    def divide(message: IncomingMessage) -> str:
        return str(1 / 0)

    run = LocalRun(tmp_path / "outbox.jsonl", router=router)
    phone.hear(run)
    with local_run.using(run):
        from_the_page(
            phone, "/phone/send", {"number": "+14155550100", "channel": "sms", "text": "hi"}
        )

    [answer] = [event for event in events(phone) if event["kind"] == "answer"]
    [trace] = answer["errors"]
    assert "return str(1 / 0)" in trace
    assert trace.endswith("ZeroDivisionError: division by zero")


def test_an_attachment_is_kept_and_served_back_an_html_one_inert(phone):
    status, _, payload = from_the_page(phone, "/phone/media", {}, **{"Content-Type": "image/png"})
    assert status == 200
    url = json.loads(payload)["url"]
    assert url.startswith(f"http://127.0.0.1:{phone.port}/phone/media/")

    origin = {"Origin": f"http://127.0.0.1:{phone.port}", "Content-Type": "text/html"}
    _, _, payload = request(phone, "POST", "/phone/media", b"<script>alert(1)</script>", **origin)
    path = json.loads(payload)["url"].removeprefix(f"http://127.0.0.1:{phone.port}")
    status, headers, _ = request(phone, "GET", path)
    assert status == 200
    assert headers["Content-Disposition"] == "attachment"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert request(phone, "GET", "/phone/media/..%2F..%2Fphone.jsonl")[0] == 404


def test_the_conversation_is_shown_and_forgotten_on_reset(phone):
    texts = [("SURVEY", "+14155550100")]
    for text, number in texts:
        from_the_page(phone, "/phone/send", {"number": number, "channel": "sms", "text": text})
    _, _, payload = request(phone, "GET", "/phone/conversation?address=%2B14155550100")
    assert json.loads(payload)["state"] == {"survey": {}}

    from_the_page(phone, "/phone/reset", {"address": "+14155550100"})

    _, _, payload = request(phone, "GET", "/phone/conversation?address=%2B14155550100")
    assert json.loads(payload)["state"] == {}
    assert any(event["kind"] == "reset" for event in events(phone))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
        {"Origin": "null", "Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"},
    ],
    ids=["another site's form", "a sandboxed frame", "no origin", "another port"],
)
def test_a_request_from_another_site_cannot_send_a_text(phone, headers):
    body = json.dumps({"number": "+14155550100", "channel": "sms", "text": "HOURS"}).encode()

    status, headers_back, _ = request(phone, "POST", "/phone/send", body, **headers)

    assert status == 403
    assert not any(name.startswith("Access-Control") for name in headers_back)
    assert events(phone) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "phone.evil.example:3000"},  # a name rebound to 127.0.0.1
        {"X-Forwarded-For": "203.0.113.9"},  # through a tunnel
        {"Sec-Fetch-Site": "cross-site"},  # another site's page reading the events
    ],
)
def test_only_this_machines_page_may_read_it(phone, headers):
    assert request(phone, "GET", "/phone", **headers)[0] == 403


def test_the_page_runs_no_script_but_its_own(phone):
    status, headers, payload = request(phone, "GET", "/phone")

    assert status == 200
    assert b'<script src="/phone/phone.js"' in payload
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_the_events_stream_from_where_the_page_stood(phone):
    phone.journal.append({"kind": "reset", "thread": "+1"})
    [(offset, _)] = phone.journal.read(0)
    phone.journal.append({"kind": "reset", "thread": "+2"})
    lines: list[bytes] = []

    def read() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", phone.port, timeout=10)
        host = f"127.0.0.1:{phone.port}"
        connection.request(
            "GET", "/phone/events", headers={"Host": host, "Last-Event-ID": str(offset)}
        )
        response = connection.getresponse()
        while len(lines) < 4:
            lines.append(response.fp.readline())
        connection.close()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert lines[0] == b"retry: 1000\n"
    assert b'"+2"' in lines[3]
    assert b'"+1"' not in b"".join(lines)


def test_a_journal_removed_meanwhile_is_read_again_from_the_start(tmp_path):
    journal = Journal(tmp_path / "phone.jsonl")
    journal.append({"kind": "reset", "thread": "+1"})

    assert [event["kind"] for _, event in journal.read(10_000)] == ["cleared", "reset"]


def test_the_page_is_opened_only_where_it_can_be_seen(monkeypatch):
    opened: list[str] = []

    def browser_opens(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", browser_opens)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    url = "http://127.0.0.1:3000/phone"

    assert open_page(url) == f"Your phone is open in your browser: {url}"
    monkeypatch.setenv("OPEN", "0")
    assert open_page(url) == f"Your phone: open {url} in your browser"
    monkeypatch.delenv("OPEN")
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert open_page(url) == f"Your phone: open {url} in your browser"
    assert opened == [url]
