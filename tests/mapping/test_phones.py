"""One phone normaliser: strict for PCO's numbers, lenient for numbers typed on the site."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from flask_pco.mapping.phones import normalize_phone, to_e164


def test_pco_e164_wins_over_its_display_number() -> None:
    assert to_e164("(555) 010-7788", e164="+15550107788") == "+15550107788"


def test_a_pco_number_that_is_no_phone_number_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'call me' is not a phone number"):
        to_e164("call me")


def test_the_country_is_not_asked_for_an_international_number() -> None:
    def country() -> str:
        raise AssertionError("asked for the organisation's country")

    assert to_e164("+44 20 7946 0018", country=country) == "+442079460018"


def test_a_typed_number_that_is_no_phone_number_is_kept_as_typed() -> None:
    assert normalize_phone("  ext. 12 ") == "ext. 12"


def test_typed_and_pco_numbers_meet_in_the_same_form() -> None:
    assert normalize_phone("555.010.7788") == to_e164(None, e164="+1 555 010 7788")


def _by_phonenumbers(text: str) -> str:
    parsed = phonenumbers.parse(text, None)
    assert phonenumbers.is_possible_number(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def test_north_american_e164_numbers_come_back_as_phonenumbers_would_give_them() -> None:
    numbers = random.Random(7)
    for _ in range(5000):
        text = f"+1{numbers.randint(2, 9)}{numbers.randint(0, 10**9 - 1):09d}"
        assert to_e164(None, e164=text) == _by_phonenumbers(text) == text


@pytest.mark.parametrize("text", ["+10234567890", "+11234567890", "+1 555 010 7788"])
def test_other_plus_one_forms_still_go_through_phonenumbers(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda t, r: parsed.append(t) or real(t, r))
    to_e164(text)
    assert parsed == [text]
