"""Phone numbers in the one form both sides are compared and sent in: E.164, via phonenumbers.

``to_e164`` is strict (PCO's own numbers: a number that is not one is a problem to report);
``normalize_phone`` is lenient (numbers typed on the site: kept as typed when they do not
parse, so nothing a person entered is lost on the way to PCO).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import phonenumbers

__all__ = ["Country", "normalize_phone", "to_e164"]

#: The country assumed for a number without ``+``: a code, or a function asked only if needed
#: (the organisation's country costs a request).
Country = str | Callable[[], str]


#: A North American number already in E.164: ``+1`` and ten digits. phonenumbers gives every
#: such number back unchanged (tests/mapping/test_phones.py compares the two on every leading
#: digit pair), so it is not parsed again: most of PCO's numbers come this way, and parsing
#: them was half of mapping a person.
_NANP_E164 = re.compile(r"\+1[0-9]{10}")


def to_e164(number: Any, *, e164: Any = None, country: Country = "US") -> str:
    """E.164 for a number: PCO's own ``e164`` when it has a possible one, else parse ``number``
    in ``country``. ``ValueError`` with the reason when neither is a possible phone number."""
    for candidate, is_e164 in ((e164, True), (number, False)):
        text = str(candidate or "").strip()
        if not text:
            continue
        if _NANP_E164.fullmatch(text):
            return text
        region = None if is_e164 or text.startswith("+") else _region(country)
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"{number or e164!r} is not a phone number")


def normalize_phone(number: Any, country: Country = "US") -> str:
    """E.164 for a number in any common notation; one that is not a phone number comes back
    trimmed, as typed."""
    try:
        return to_e164(number, country=country)
    except ValueError:
        return str(number or "").strip()


def _region(country: Country) -> str:
    return country() if callable(country) else country
