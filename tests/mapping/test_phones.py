"""One phone normaliser: strict for PCO's numbers, lenient for numbers typed on the site."""

from __future__ import annotations

import itertools
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


def _parsed_e164(text: str) -> str | None:
    """What phonenumbers itself makes of ``text``: the slow path the fast one must agree with."""
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _north_american_numbers(per_pair: int = 200) -> list[str]:
    """``+1`` and ten digits, for every leading digit of the area code and of the exchange."""
    rng = random.Random(22)
    return [
        f"+1{area}{rng.randrange(100):02d}{exchange}{rng.randrange(10**6):06d}"
        for area, exchange in itertools.product(range(10), range(10))
        for _ in range(per_pair)
    ]


def test_north_american_e164_numbers_come_back_as_phonenumbers_formats_them() -> None:
    numbers = _north_american_numbers()
    assert [to_e164(None, e164=n) for n in numbers] == [_parsed_e164(n) for n in numbers]


def test_north_american_e164_numbers_are_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*args: object) -> None:
        raise AssertionError("parsed a number already in E.164")

    monkeypatch.setattr(phonenumbers, "parse", parse)
    assert to_e164("(555) 010-7788", e164="+15550107788") == "+15550107788"


@pytest.mark.parametrize(
    "e164",
    ["+1555010778", "+155501077881", "+1 555 010 7788", "+44 20 7946 0958", "+61298765432"],
)
def test_numbers_outside_the_fast_path_agree_with_phonenumbers(e164: str) -> None:
    try:
        ours: str | None = to_e164(None, e164=e164)
    except ValueError:
        ours = None
    assert ours == _parsed_e164(e164)
