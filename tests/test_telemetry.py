"""How senders appear in logs: a pseudonym per deployment, never the number."""

import re

import pytest

from sms_webhook.telemetry import pseudonym

SECRET = "the-secret-the-request-was-signed-with"


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("+14155551234", "+1…34"),
        ("+79161234567", "+7…67"),
        ("+447700900123", "+44…23"),
        ("+819012345678", "+81…78"),
        ("+35312345678", "+353…78"),
        ("whatsapp:+14155551234", "whatsapp:+1…34"),
        ("12345", "…45"),
        ("messenger:alice.b", "messenger:"),
        ("", ""),
    ],
)
def test_a_sender_shows_at_most_the_country_code_and_last_two_digits(address, shown):
    assert re.fullmatch(rf"{re.escape(shown)}#[0-9a-f]{{8}}", pseudonym(address, SECRET))


def test_the_same_sender_gets_the_same_pseudonym_with_the_same_secret():
    assert pseudonym("+14155551234", SECRET) == pseudonym("+14155551234", SECRET)


def test_senders_sharing_country_code_and_last_digits_get_different_pseudonyms():
    assert pseudonym("+14155551234", SECRET) != pseudonym("+12125550034", SECRET)


def test_without_the_secret_the_pseudonym_cannot_be_recomputed():
    assert pseudonym("+14155551234", SECRET) != pseudonym("+14155551234", "a guess")
