"""Selective pulls: the people of chosen PCO Lists (``list_ids``), or one PCO group (``group_id``).

Each option narrows one pull and means nothing to any other sync, and its ids go into URL
paths, so an id must be a PCO id (digits, not starting with 0). ``check_selection`` refuses anything else before a
run row exists or a request is made: a wrong option used to be ignored silently, running a
full pull instead of the small one asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_pco.client.ids import is_pco_id
from flask_pco.exceptions import ConfigError

__all__ = ["SELECTIVE_OPTIONS", "Selector", "check_selection", "missing_message"]


@dataclass(frozen=True, slots=True)
class Selector:
    """One selective option: the pull that takes it, its CLI flag, what its ids name."""

    sync_type: str
    flag: str
    names: str
    many: bool


SELECTIVE_OPTIONS = {
    "list_ids": Selector("people", "--list", "list", many=True),
    "group_id": Selector("groups", "--group", "group", many=False),
}


def check_selection(
    direction: str, sync_type: str, options: dict[str, Any] | None
) -> dict[str, Any]:
    """``options`` with their list and group ids checked and made plain strings (a list of
    ids for ``list_ids``); a ``ConfigError`` names the flag and what is wrong with it."""
    checked = dict(options or {})
    for option, selector in SELECTIVE_OPTIONS.items():
        if checked.get(option) is None:
            checked.pop(option, None)
            continue
        if (direction, sync_type) != ("pull", selector.sync_type):
            verb = "sync" if direction == "pull" else direction
            raise ConfigError(
                f"{selector.flag} only goes with `sync {selector.sync_type}`, "
                f"not `{verb} {sync_type}`"
            )
        ids = [_pco_id(selector, value) for value in _values(checked[option])]
        if not ids:
            raise ConfigError(f"{selector.flag} needs a PCO {selector.names} id")
        checked[option] = ids if selector.many else _single(selector, ids)
    return checked


def missing_message(names: str, ids: list[str]) -> str:
    """``PCO list 999 does not exist`` (or ``PCO lists 998, 999 do not exist``)."""
    if len(ids) == 1:
        return f"PCO {names} {ids[0]} does not exist"
    return f"PCO {names}s {', '.join(ids)} do not exist"


def _values(value: Any) -> list[Any]:
    """One id, ids separated by commas, or a list of them."""
    if isinstance(value, list | tuple):
        return [part for item in value for part in _values(item)]
    return [part.strip() for part in str(value).split(",")]


def _pco_id(selector: Selector, value: Any) -> str:
    text = str(value)
    if not is_pco_id(text):
        raise ConfigError(
            f"{selector.flag} {text!r} is not a PCO {selector.names} id "
            "(digits, not starting with 0)"
        )
    return text


def _single(selector: Selector, ids: list[str]) -> str:
    if len(ids) != 1:
        raise ConfigError(f"{selector.flag} takes one PCO {selector.names} id, got {len(ids)}")
    return ids[0]
