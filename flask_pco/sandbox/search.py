"""Person ``search_*`` helpers: loose matches (case-insensitive substrings, digits-only phones)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_pco.sandbox.store import Store

NON_DIGITS = re.compile(r"\D")


def _children(store: Store, table: str, person_id: str) -> list[dict[str, Any]]:
    return [store.tables[table][rid] for rid in store.lookup(table, "person_id", person_id)]


def _name_matches(store: Store, person: dict[str, Any], value: str) -> bool:
    names = (person.get(k) or "" for k in ("first_name", "last_name", "nickname", "given_name"))
    full = " ".join((person.get("first_name") or "", person.get("last_name") or ""))
    needle = value.casefold()
    return needle in full.casefold() or any(needle in name.casefold() for name in names)


def _email_matches(store: Store, person: dict[str, Any], value: str) -> bool:
    needle = value.casefold()
    return any(
        needle in (e.get("address") or "").casefold()
        for e in _children(store, "Email", person["id"])
    )


def _phone_matches(store: Store, person: dict[str, Any], value: str) -> bool:
    digits = NON_DIGITS.sub("", value)
    if not digits:
        return False
    phones = _children(store, "PhoneNumber", person["id"])
    return any(
        digits in NON_DIGITS.sub("", phone.get(key) or "")
        for phone in phones
        for key in ("number", "e164")
    )


def _e164_matches(store: Store, person: dict[str, Any], value: str) -> bool:
    wanted = "+" + NON_DIGITS.sub("", value)
    return any(
        phone.get("e164") == wanted for phone in _children(store, "PhoneNumber", person["id"])
    )


def _any_of(*checks: Callable[[Store, dict[str, Any], str], bool]) -> Callable[..., bool]:
    return lambda store, person, value: any(check(store, person, value) for check in checks)


SEARCHES: dict[str, Callable[[Store, dict[str, Any], str], bool]] = {
    "search_name": _name_matches,
    "search_name_or_email": _any_of(_name_matches, _email_matches),
    "search_name_or_email_or_phone_number": _any_of(_name_matches, _email_matches, _phone_matches),
    "search_phone_number": _phone_matches,
    "search_phone_number_e164": _e164_matches,
}
