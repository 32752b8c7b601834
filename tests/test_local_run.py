import json
from collections.abc import Callable

import pytest

from sms_webhook import local_run
from sms_webhook.config import ConfigurationError
from sms_webhook.jobs import TextJob
from sms_webhook.local_run import LocalRun
from sms_webhook.router import Router
from sms_webhook.sending import Outgoing

TEXT = Outgoing("AC" + "0" * 32, "+14155550100", "+15005550006", "hello", (), None)
JOB = TextJob("+14155550100", "hello", (), "k1", "", "", None)


def test_a_local_run_puts_each_text_in_its_outbox_as_a_json_line(tmp_path):
    run = LocalRun(tmp_path / "outbox.jsonl")

    sid = run.deliver(TEXT)

    [line] = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line) | {"at": 0} == {**TEXT._asdict(), "media": [], "sid": sid, "at": 0}


def test_a_local_run_tells_its_listeners_of_each_text(tmp_path):
    run, heard = LocalRun(tmp_path / "outbox.jsonl"), list[Outgoing]()

    with run.listening(heard.append):
        run.deliver(TEXT)
    run.deliver(TEXT)

    assert heard == [TEXT]


def test_a_local_run_without_an_outbox_writes_to_the_one_the_environment_names(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("OUTBOX_FILE", str(tmp_path / "named.jsonl"))

    LocalRun().deliver(TEXT)

    assert (tmp_path / "named.jsonl").exists()


def test_a_local_run_runs_a_job_at_once_by_default():
    ran = []

    LocalRun().put(JOB, lambda: ran.append("ran"))

    assert ran == ["ran"]


def test_a_local_run_keeps_each_job_and_starts_it_as_told():
    held: list[Callable[[], None]] = []
    run = LocalRun(start=held.append)

    run.put(JOB, lambda: None)

    assert run.jobs == [JOB]
    assert len(held) == 1


def test_using_installs_a_local_run_until_the_block_ends(tmp_path):
    router = Router()

    with local_run.using(LocalRun(router=router)) as run:
        assert local_run.installed() is run
        assert local_run.router() is router
    assert local_run.installed() is None
    assert local_run.router() is None


def test_a_local_run_installed_within_another_gives_it_back_after():
    outer, inner = LocalRun(), LocalRun()

    with local_run.using(outer):
        with local_run.using(inner):
            assert local_run.current() is inner
        assert local_run.current() is outer
    assert local_run.installed() is None


def test_local_runs_of_two_threads_each_end_with_their_own_block():
    first, second = LocalRun(), LocalRun()
    first_block, second_block = local_run.using(first), local_run.using(second)

    first_block.__enter__()
    second_block.__enter__()
    first_block.__exit__(None, None, None)  # the first thread ends first

    assert local_run.installed() is second
    second_block.__exit__(None, None, None)
    assert local_run.installed() is None


def test_only_a_local_run_with_an_outbox_takes_the_texts_of_jobs(tmp_path):
    with local_run.using(LocalRun(router=Router())):
        assert local_run.sending_here() is None  # a test's router, beside a stand-in of Twilio
    with local_run.using(LocalRun(tmp_path / "outbox.jsonl")) as run:
        assert local_run.sending_here() is run


def test_errors_reach_the_installed_local_run_only():
    told: list[Exception] = []
    local_run.failed(ValueError("nobody hears this"))

    with local_run.using(LocalRun(on_error=told.append)):
        local_run.failed(error := ValueError("told"))

    assert told == [error]


def test_without_a_local_run_or_an_outbox_nothing_local_may_send():
    with pytest.raises(ConfigurationError, match="OUTBOX_FILE"):
        local_run.current()
