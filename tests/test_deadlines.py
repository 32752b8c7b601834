"""A request's time in three parts: the reads before reply code, reply code, the writes after it.

Every test moves the clock by hand: none depends on how fast this machine is.
"""

import threading

import pytest

from sms_webhook import deadlines

pytestmark = pytest.mark.usefixtures("real_deadlines")  # what these tests measure

TIME_LEFT = deadlines.WEBHOOK_TIMEOUT * 1000
"""What a webhook invocation has left when it starts, in milliseconds."""


def test_the_reads_before_reply_code_end_within_the_aws_budget_of_the_arrival(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(1)

    assert deadlines.seconds_left() == deadlines.AWS_BUDGET - 1


def test_reply_code_may_use_the_invocations_time_for_its_own_calls(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(1)

    with deadlines.reply_code():
        clock.advance(6)
        assert deadlines.seconds_left() == deadlines.WEBHOOK_TIMEOUT - deadlines.ANSWER_MARGIN - 7


def test_the_writes_after_reply_code_get_the_save_window_from_its_return(clock):
    deadlines.start_request(TIME_LEFT)
    with deadlines.reply_code():
        clock.advance(8)

    assert deadlines.seconds_left() == deadlines.SAVE_WINDOW


def test_no_part_runs_past_the_margin_before_the_invocations_end(clock):
    deadlines.start_request(TIME_LEFT)
    with deadlines.reply_code():
        clock.advance(deadlines.WEBHOOK_TIMEOUT - 2)

    assert deadlines.seconds_left() == 2 - deadlines.ANSWER_MARGIN


def test_an_invocation_with_little_time_left_has_less_than_the_budget(clock):
    deadlines.start_request(2_500)

    assert deadlines.seconds_left() == 1.5


def test_reply_code_inside_reply_code_counts_once(clock):
    deadlines.start_request(TIME_LEFT)
    with deadlines.reply_code():
        with deadlines.reply_code():
            clock.advance(1)
        clock.advance(1)
        assert deadlines.seconds_left() > deadlines.SAVE_WINDOW  # still reply code's time

    assert deadlines.seconds_left() == deadlines.SAVE_WINDOW


def test_time_spent_building_a_client_is_added_to_the_deadline(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(2)
    deadlines.extend(2)

    assert deadlines.seconds_left() == deadlines.AWS_BUDGET


def test_a_worker_job_has_all_the_invocations_time_before_and_after_reply_code(clock):
    deadlines.start_job(300_000)
    with deadlines.reply_code():
        clock.advance(100)

    assert deadlines.seconds_left() == 300 - deadlines.ANSWER_MARGIN - 100


def test_outside_a_request_there_is_no_limit():
    deadlines.end_request()

    assert deadlines.seconds_left() == float("inf")
    assert deadlines.seconds_since_arrival() == 0


def test_requests_served_side_by_side_keep_their_own_clocks(clock):
    deadlines.start_request(TIME_LEFT)
    seen_in_the_other = []

    def another_request_with_little_time():
        deadlines.start_request(2_000)
        seen_in_the_other.append(deadlines.seconds_left())

    other = threading.Thread(target=another_request_with_little_time)
    other.start()
    other.join()

    assert seen_in_the_other == [1.0]
    assert deadlines.seconds_left() == deadlines.AWS_BUDGET


def test_reply_code_that_overruns_its_time_is_logged_and_counted(clock, logs, published):
    deadlines.start_request(TIME_LEFT)
    with deadlines.reply_code():
        clock.advance(deadlines.REPLY_TIME + 1)

    [line] = logs.records
    assert line["message"].startswith("reply code overran its time")
    assert (line["seconds"], line["reply_time"]) == (deadlines.REPLY_TIME + 1, deadlines.REPLY_TIME)
    assert [metric["name"] for metric in published()] == ["SlowReplies"]


def test_reply_code_within_its_time_logs_nothing(clock, logs):
    deadlines.start_request(TIME_LEFT)
    with deadlines.reply_code():
        clock.advance(deadlines.REPLY_TIME)

    assert logs.records == []


def test_a_webhooks_answer_is_due_when_twilio_stops_waiting(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(4)

    assert deadlines.seconds_to_answer() == deadlines.TWILIO_WAIT - 4


def test_a_workers_answer_is_due_when_its_invocation_ends(clock):
    deadlines.start_job(300_000)

    assert deadlines.seconds_to_answer() == 300 - deadlines.ANSWER_MARGIN


def test_twilio_still_waits_for_an_answer_made_before_the_late_margin(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(deadlines.TWILIO_WAIT - deadlines.LATE_MARGIN - 0.1)

    assert deadlines.twilio_waits()


def test_an_answer_made_within_the_late_margin_may_reach_twilio_too_late(clock):
    deadlines.start_request(TIME_LEFT)
    clock.advance(deadlines.TWILIO_WAIT - deadlines.LATE_MARGIN + 0.1)

    assert not deadlines.twilio_waits()


def test_outside_a_webhook_request_nobody_waits_for_an_answer():
    deadlines.end_request()

    assert deadlines.twilio_waits()
