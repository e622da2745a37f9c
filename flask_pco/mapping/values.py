"""Attribute readers shared by the mappers: each one turns a PCO value into its local form.

PCO sends dates as ``YYYY-MM-DD`` and timestamps as ISO 8601 in UTC with ``Z``; the local
tables keep ``date`` and naive UTC ``datetime``. A value of the wrong shape is a malformed
record, so these raise ``DocumentError`` naming the record and the attribute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_pco.client.jsonapi import Resource
from flask_pco.exceptions import DocumentError

__all__ = ["optional_int", "parse_date", "parse_datetime", "required_text", "text"]


def text(resource: Resource, name: str) -> str | None:
    """A string attribute stripped of surrounding blanks; empty or missing → ``None``.

    NUL characters are dropped: PostgreSQL cannot store them, and no name or address means one.
    """
    value = resource.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise DocumentError(f"{resource.type} {resource.id}: {name} must be text, got {value!r}")
    return str(value).replace("\x00", "").strip() or None


def required_text(resource: Resource, name: str) -> str:
    value = text(resource, name)
    if value is None:
        raise DocumentError(f"{resource.type} {resource.id} has no {name}")
    return value


def parse_date(resource: Resource, name: str) -> date | None:
    value = resource.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise DocumentError(
            f"{resource.type} {resource.id}: {name} {value!r} is not a YYYY-MM-DD date"
        ) from None


def parse_datetime(resource: Resource, name: str) -> datetime | None:
    """An ISO 8601 timestamp as naive UTC (the form both databases store)."""
    value = resource.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DocumentError(
            f"{resource.type} {resource.id}: {name} {value!r} is not an ISO 8601 timestamp"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def optional_int(resource: Resource, name: str) -> int | None:
    """PCO sends some ids (``remote_id``) as JSON numbers and some as strings of digits."""
    value = resource.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise DocumentError(
            f"{resource.type} {resource.id}: {name} {value!r} is not a whole number"
        )
    return int(str(value).strip())
