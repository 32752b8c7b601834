"""`make phone` in a real browser: Debian's headless Chromium, driven by Playwright, on the page
a `make run` server with `--phone` serves from a copy of the project, with the shipped replies.py.

Nothing is downloaded: the browser is the system's (`chromium`, which `.ci/run` installs with
apt); without one the tests are skipped, saying so. `PHONE_SCREENSHOT=docs/phone.png` (`make
phone-screenshot`) also saves the page as the docs show it; a normal run writes nothing.
"""

import os
import shutil
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect, sync_playwright

from tests.support.local_project import PROJECT, RunningServer, copy_of_project

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Headless, as root in a container, and nothing fetched by the browser itself."""
TIMEOUT_MS = 20_000
"""How long an expectation waits for the page: generous, on a busy machine."""


def picture(size: int = 96) -> bytes:
    """A square PNG, `size` pixels a side, a gradient: something to attach and see."""
    rows = b"".join(
        b"\x00"
        + bytes(channel for x in range(size) for channel in (255 * x // size, 140, 255 - 2 * y))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium on PATH (apt-get install chromium): the browser tests of make "
        "phone need one",
    ),
]


@pytest.fixture
def phone_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """`make phone` on a copy of the project, its browser not opened."""
    monkeypatch.setenv("OPEN", "0")
    server = RunningServer(copy_of_project(tmp_path), "--phone")
    server.wait_for(r"Your phone: open http://127\.0\.0\.1:\d+/phone")
    yield server
    server.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        yield launched
        launched.close()


def open_phone(browser: Browser, server: RunningServer) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"http://127.0.0.1:{server.port}/phone")
    return page


def text(page: Page, typed: str) -> None:
    """Type a text and press Enter, as a person does."""
    page.locator("#text").fill(typed)
    page.locator("#text").press("Enter")


def bot_says(page: Page, reply: str) -> Locator:
    return page.locator("#messages .bubble.bot", has_text=reply).last


def test_a_survey_a_button_a_picture_and_a_later_reply_in_the_browser(browser, phone_server):
    page = open_phone(browser, phone_server)

    text(page, "SURVEY")
    first = bot_says(page, "Two quick questions. 1/2: how did you hear about us?")
    expect(first).to_be_visible()
    expect(first.locator(".segments")).to_have_text("1 SMS segment, GSM-7")
    expect(page.locator(".bubble.you .log").first).to_contain_text('→ "SURVEY" ⇒ "Two quick')
    expect(first.locator(".status")).to_have_attribute("data-status", "delivered")
    expect(first.locator(".status")).to_have_text("delivered (/status 200)")

    text(page, "a friend")
    expect(bot_says(page, "2/2: from 1 to 5")).to_be_visible()
    expect(page.locator("#conversation")).to_contain_text('"heard": "a friend"')
    page.locator("#text").press("ArrowUp")
    expect(page.locator("#text")).to_have_value("a friend")
    page.locator("#text").fill("")

    page.locator("#attach").set_input_files(
        files=FilePayload(name="gradient.png", mimeType="image/png", buffer=picture())
    )
    expect(page.locator("#attached img")).to_be_visible()
    page.locator("#send").click()
    expect(bot_says(page, "Got your 1 attachment(s): image/png.")).to_be_visible()
    sent_picture = page.locator(".bubble.you img.media").last
    expect(sent_picture).to_be_visible()
    assert sent_picture.evaluate("image => image.complete && image.naturalWidth") == 96

    text(page, "5")
    expect(
        bot_says(page, "Thanks! You heard of us through 'a friend' and gave us 5.")
    ).to_be_visible()
    text(page, "REPORT")
    expect(bot_says(page, "Working on it: your report follows in a moment.")).to_be_visible()
    later = page.locator(".bubble.bot.later", has_text="Your report:")
    expect(later).to_be_visible()
    expect(later.locator(".status")).to_have_attribute("data-status", "delivered")

    page.locator("#new-number").fill("+14155550199")
    page.locator("#new-channel").select_option("whatsapp")
    page.locator("#new-sender button").click()
    expect(page.locator("#thread-title")).to_have_text("whatsapp:+14155550199")
    page.locator("#button-text").fill("Yes")
    page.locator("#button-payload").fill("CONFIRM")
    page.locator("#press").click()
    expect(page.locator(".bubble.you .label")).to_have_text("pressed the button “Yes”")
    answer = bot_says(page, "I'm busy questing right now!")
    expect(answer).to_be_visible()
    expect(answer.locator(".segments")).to_have_text("not SMS: priced per message")

    screenshot = os.environ.get("PHONE_SCREENSHOT")
    if screenshot:
        page.locator(".thread", has_text="+14155551234").click()
        expect(later.locator(".status")).to_have_attribute("data-status", "delivered")
        page.screenshot(path=str(PROJECT / screenshot))


def test_a_failure_asked_for_is_reported_and_a_reset_forgets(browser, phone_server):
    page = open_phone(browser, phone_server)

    page.locator("#fail-next").check()
    text(page, "HOURS")

    hours = bot_says(page, "We're open 9am to 5pm")
    expect(hours.locator(".status")).to_have_attribute("data-status", "failed")
    expect(page.locator("#fail-next")).not_to_be_checked()
    text(page, "SURVEY")
    expect(page.locator("#conversation")).to_contain_text('"survey": {}')
    page.locator("#reset").click()
    expect(page.locator("#messages .note")).to_contain_text("reset")
    expect(page.locator("#conversation")).to_contain_text('"state": {}')


def test_a_text_holding_markup_shows_as_text(browser, phone_server):
    page = open_phone(browser, phone_server)
    markup = '<script>window.ran = 1</script><img src="/x" onerror="window.ran = 2">'

    text(page, markup)

    expect(page.locator(".bubble.you .text")).to_have_text(markup)
    expect(page.locator(".bubble.you .log")).to_be_visible()
    assert page.evaluate("window.ran") is None
    assert page.locator(".bubble script, .bubble img:not(.media)").count() == 0


ATTACK = """<!doctype html>
<form method="POST" action="{url}" enctype="text/plain">
<input name='{{"number":"+14155551234","channel":"sms","text":"HOURS","x":"' value='"}}'>
</form>
<script>document.forms[0].submit()</script>
"""
"""Another site's page that posts a text to the phone as soon as it is opened."""


class AttackingSite(BaseHTTPRequestHandler):
    server: "AttackingServer"

    def do_GET(self) -> None:
        page = ATTACK.format(url=self.server.target).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class AttackingServer(ThreadingHTTPServer):
    target = ""


def test_another_sites_form_cannot_text_through_the_phone(browser, phone_server):
    """A page of another origin (another port: another site to the phone) posts a form to the
    phone, as a malicious site would: refused, and nothing is sent."""
    page = open_phone(browser, phone_server)
    site = AttackingServer(("127.0.0.1", 0), AttackingSite)
    site.target = f"http://127.0.0.1:{phone_server.port}/phone/send"
    threading.Thread(target=site.serve_forever, args=(0.05,), daemon=True).start()
    mark = phone_server.mark()
    try:
        other = browser.new_page()
        other.set_default_timeout(TIMEOUT_MS)
        other.goto(f"http://127.0.0.1:{site.server_port}/")
        other.wait_for_url(site.target)
        expect(other.locator("body")).to_contain_text("may not use the phone")
    finally:
        site.shutdown()
        site.server_close()

    phone_server.wait_for(r"POST /phone/send ⇒ 403 a request from another site", after=mark)
    assert page.locator(".bubble").count() == 0
    assert not any("HOURS" in line for line in phone_server.lines[mark:])


def test_an_edit_reloads_the_server_and_a_handlers_traceback_shows(browser, phone_server):
    page = open_phone(browser, phone_server)
    text(page, "HOURS")
    expect(bot_says(page, "We're open 9am to 5pm")).to_be_visible()
    mark = phone_server.mark()

    phone_server.edit(
        "replies.py",
        '    return "We\'re open 9am to 5pm, Monday to Friday."',
        '    return f"We\'re open {1 / 0}"',
    )
    phone_server.wait_for(r"replies\.py changed: restarting the server", after=mark)
    text(page, "HOURS")

    trace = page.locator(".bubble.you .traceback").last
    expect(trace).to_contain_text('replies.py", line')
    expect(trace).to_contain_text("ZeroDivisionError: division by zero")
    page.locator("#new-channel").select_option("whatsapp")
    page.locator("#new-sender button").click()
    page.locator("#share").click()
    expect(page.locator(".bubble.you .label").last).to_have_text(
        "📍 Ferry Building · 37.7955, -122.3937"
    )


def test_an_open_page_hears_the_replies_again_once_broken_code_is_fixed(browser, phone_server):
    page = open_phone(browser, phone_server)
    text(page, "HOURS")
    expect(bot_says(page, "We're open 9am to 5pm")).to_be_visible()
    broken = phone_server.mark()

    phone_server.edit("replies.py", "def opening_hours(", "def opening_hours(:")
    phone_server.wait_for(r"GET /phone/events ⇒ 500", after=broken)  # the page's stream refused
    fixed = phone_server.mark()
    phone_server.edit("replies.py", "def opening_hours(:", "def opening_hours(")
    phone_server.wait_for(r"replies\.py changed: restarting the server", after=fixed)
    text(page, "HOURS")

    expect(page.locator("#messages .bubble.bot", has_text="We're open")).to_have_count(2)
