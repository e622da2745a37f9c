"""Write payload checks in PCO's order: 400 payload shape, 422 forbidden attributes, 422 validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import phonenumbers

from flask_pco.sandbox.computed import STREET_LINES_SINCE
from flask_pco.sandbox.errors import (
    SandboxApiError,
    forbidden_attributes,
    invalid_payload,
    validation_entry,
)
from flask_pco.sandbox.specs import ResourceSpec
from flask_pco.sandbox.store import utc_stamp

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STREET_LINES = frozenset({"street_line_1", "street_line_2"})
INVALID = object()


def payload_data(body: Any) -> dict[str, Any]:
    """The ``data`` object of a write; arrays and missing ``data`` are 400 as in PCO."""
    if not isinstance(body, dict) or "data" not in body:
        raise invalid_payload()
    data = body["data"]
    if not isinstance(data, dict) or not isinstance(data.get("attributes", {}), dict):
        raise invalid_payload("The payload given does not contain a 'data' object.")
    return data


def assignable(spec: ResourceSpec, creating: bool, version: str) -> frozenset[str]:
    """Assignable names for this version: Address took ``street`` before 2023-03-21."""
    names = spec.assignable(creating)
    if spec.table == "Address" and version < STREET_LINES_SINCE:
        return (names - STREET_LINES) | {"street"}
    return names


def _integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else INVALID


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower(), INVALID)


def _date(value: Any) -> Any:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return INVALID


def _date_time(value: Any) -> Any:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return INVALID
    return utc_stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


COERCE: dict[str, tuple[Callable[[Any], Any], str]] = {
    "integer": (_integer, "is not a number"),
    "boolean": (_boolean, "is not a boolean"),
    "date": (_date, "is not a valid date"),
    "date_time": (_date_time, "is not a valid date_time"),
}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _custom_errors(spec: ResourceSpec, attrs: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if (
        spec.table == "Email"
        and attrs.get("address")
        and not EMAIL_SHAPE.match(str(attrs["address"]))
    ):
        problems.append(("address", "is invalid"))
    if spec.table == "PhoneNumber" and attrs.get("number") and not _parses(str(attrs["number"])):
        problems.append(("number", "is invalid"))
    if spec.table == "Membership" and attrs.get("role", "member") not in ("member", "leader"):
        problems.append(("role", "is not included in the list"))
    return problems


def _parses(number: str) -> bool:
    try:
        phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return False
    return any(ch.isdigit() for ch in number)


def checked_attributes(
    spec: ResourceSpec, data: dict[str, Any], creating: bool, version: str
) -> dict[str, Any]:
    """Attributes ready to store, or a 422 listing every problem at once."""
    attrs = dict(data.get("attributes") or {})
    allowed = assignable(spec, creating, version)
    forbidden = [name for name in attrs if name not in allowed]
    if forbidden:
        raise forbidden_attributes(forbidden)
    problems = []
    for name, value in attrs.items():
        coerce, message = COERCE.get(spec.kind_of(name), (None, ""))
        if coerce and value is not None:
            attrs[name] = coerce(value)
            if attrs[name] is INVALID:
                problems.append((name, message))
    for name in spec.required:
        if (creating or name in attrs) and _is_blank(attrs.get(name)):
            problems.append((name, "can't be blank"))
    problems += _custom_errors(spec, attrs)
    if problems:
        raise SandboxApiError(422, [validation_entry(spec.type, p, d) for p, d in problems])
    return attrs


def relationship_ids(data: dict[str, Any], name: str) -> list[str] | None:
    """Ids from ``relationships.<name>.data`` (one object or an array); None when absent."""
    block = (data.get("relationships") or {}).get(name)
    if not isinstance(block, dict) or block.get("data") is None:
        return None
    refs = block["data"] if isinstance(block["data"], list) else [block["data"]]
    return [str(ref.get("id")) for ref in refs if isinstance(ref, dict)]
