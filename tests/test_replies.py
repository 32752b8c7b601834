"""The reply code that ships, texted as a user would test theirs: with `devtools.phone.Phone`."""

from datetime import datetime, time, timedelta

import pytest

from devtools.phone import Phone, SentText
from replies import DEFAULT_REPLY_MESSAGE, SHOP_TIME
from sms_webhook.consent import OPTED_OUT_CONFIRMATION


@pytest.fixture
def phone() -> Phone:
    return Phone()


def test_any_text_gets_the_questing_auto_reply(phone):
    assert phone.send("hello") == [DEFAULT_REPLY_MESSAGE] == ["I'm busy questing right now!"]


def test_reply_message_setting_replaces_the_auto_reply(phone, monkeypatch):
    monkeypatch.setenv("REPLY_MESSAGE", "Back in five minutes")

    assert phone.send("hello") == ["Back in five minutes"]


def test_hours_example_answers_the_hours_keyword(phone):
    assert phone.send(" hours ") == ["We're open 9am to 5pm, Monday to Friday."]


def test_media_example_answers_with_the_count_and_types(phone):
    media = [
        ("https://api.twilio.com/m/1", "image/jpeg"),
        ("https://api.twilio.com/m/2", "video/mp4"),
    ]

    assert phone.send("look", media=media) == ["Got your 2 attachment(s): image/jpeg, video/mp4."]


def test_the_survey_asks_two_questions_and_thanks_with_both_answers(phone):
    assert phone.send("SURVEY") == ["Two quick questions. 1/2: how did you hear about us?"]
    assert phone.send("a friend") == ["2/2: from 1 to 5, how likely are you to recommend us?"]
    assert phone.send("5") == ["Thanks! You heard of us through 'a friend' and gave us 5."]


def test_after_the_survey_texts_get_the_auto_reply_again(phone):
    for text in ("survey", "a friend", "5"):
        phone.send(text)

    assert phone.send("hello") == [DEFAULT_REPLY_MESSAGE]


def test_each_sender_has_a_survey_of_their_own(tmp_path):
    store = tmp_path / "conversations.json"  # one deployment, two senders
    first, second = (
        Phone("+14155550001", conversations=store),
        Phone("+14155550002", conversations=store),
    )
    first.send("SURVEY")

    assert second.send("a friend") == [DEFAULT_REPLY_MESSAGE]


def test_a_phone_that_forgets_starts_again(phone):
    phone.send("SURVEY")
    phone.forget()

    assert phone.send("a friend") == [DEFAULT_REPLY_MESSAGE]


def test_the_report_example_follows_its_acknowledgement_with_the_count_of_texts(phone):
    phone.send("REPORT")

    assert phone.send("REPORT") == [
        "Working on it: your report follows in a moment.",
        "Your report: 2 text(s) from you in this conversation so far.",
    ]


# Time: the survey's deadlines, the appointment's reminder

NUDGE = "Still there? Just reply to carry on with the survey; it closes later today."
CLOSED = "The survey has closed. Thanks all the same!"


def bodies(texts: list[SentText]) -> list[str]:
    return [text.body for text in texts]


def test_the_survey_nudges_once_after_an_hour_without_an_answer(phone):
    phone.send("SURVEY")

    assert bodies(phone.advance(minutes=59)) == []
    assert bodies(phone.advance(minutes=1)) == [NUDGE]


def test_the_survey_closes_a_day_after_it_started_without_an_answer(phone):
    phone.send("SURVEY")

    assert bodies(phone.advance(days=1)) == [NUDGE, CLOSED]
    assert phone.send("a friend") == [DEFAULT_REPLY_MESSAGE]


def test_an_answer_after_the_nudge_carries_the_survey_on(phone):
    phone.send("SURVEY")
    phone.advance(hours=1)

    assert phone.send("a friend")[0].startswith("2/2")
    assert bodies(phone.advance(hours=22)) == []


def test_a_survey_answered_in_time_gets_no_nudge(phone):
    phone.send("SURVEY")
    phone.send("a friend")

    assert bodies(phone.advance(hours=2)) == []


def the_appointment() -> datetime:
    """Two days ahead at 15:00, the shop's time, as BOOK books it."""
    return datetime.combine(datetime.now(SHOP_TIME).date() + timedelta(days=2), time(15), SHOP_TIME)


def test_booking_sets_a_reminder_for_the_day_before(phone):
    phone.send("BOOK")

    [reminder] = phone.timers
    assert (reminder.handler, reminder.to) == ("appointment_reminder", phone.address)
    assert reminder.due == the_appointment() - timedelta(days=1)


def test_the_reminder_is_written_when_it_goes(phone):
    phone.send("BOOK")

    assert bodies(phone.advance(days=2)) == [
        "Reminder: your appointment is tomorrow at 15:00. CANCEL BOOKING cancels it."
    ]


def test_cancel_withdraws_the_reminder(phone):
    phone.send("BOOK")

    assert phone.send("cancel my appointment") == ["Your appointment is cancelled."]
    assert (phone.timers, bodies(phone.advance(days=3))) == ([], [])


def test_cancel_without_an_appointment_says_so(phone):
    assert phone.send("cancel my appointment") == ["You have no appointment to cancel."]


def test_cancel_alone_is_twilios_opt_out_as_the_handler_says(phone):
    """A whole message CANCEL is one of Twilio's opt-out words: Twilio answers it, not the
    handler (sms_webhook/consent.py)."""
    assert phone.send("CANCEL") == [OPTED_OUT_CONFIRMATION]


def test_booking_after_time_has_passed_on_the_phone_counts_from_the_phones_clock(phone):
    phone.advance(days=3)

    assert phone.send("BOOK")[0].startswith("Booked for")
    assert bodies(phone.advance(days=2)) == [
        "Reminder: your appointment is tomorrow at 15:00. CANCEL BOOKING cancels it."
    ]


def test_opting_out_withdraws_the_appointments_reminder(phone):
    phone.send("BOOK")
    phone.send("STOP")

    assert phone.timers == []


def test_on_whatsapp_the_survey_closes_while_the_window_is_open():
    phone = Phone(channel="whatsapp")
    phone.send("SURVEY")

    assert bodies(phone.advance(days=1)) == [NUDGE, CLOSED]


def test_book_from_who_opted_out_books_without_a_reminder(phone):
    phone.send("STOP")

    phone.send("BOOK")

    assert phone.timers == []
