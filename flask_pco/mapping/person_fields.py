"""The optional person fields, declared once: how each is read from PCO and written back.

Nothing here is required of a host: the sync reads, keeps and pushes a field only where the
host's person model has a column for it (``Roles.present``). Adding a field is one line in
``PERSON_FIELDS`` plus its row in ``roles.ROLE_FIELDS``; no pull or push code names it.

A field PCO did not send at all (an attribute an older API version lacks, ``household_role``
before People 2025-11-10, or a relationship left out of the document) is left out of the
mapped values, so the host's column keeps what it has rather than being cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import parse_date, text

__all__ = [
    "PERSON_FIELDS",
    "PULL_ONLY_PERSON_FIELDS",
    "WRITABLE_PERSON_FIELDS",
    "PersonField",
    "read_person_fields",
]

Reader = Callable[[Resource, "Document | None"], Any]
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class PersonField:
    """One optional person field: its logical name, how it is read, and how it is written."""

    name: str
    #: Reads the local value from a Person (and its document); ``_ABSENT`` when PCO sent none.
    read: Reader
    #: The assignable PCO attribute and its conversion, or ``None``: PCO does not let an API
    #: client write it (a read-only attribute, an upload, an undocumented one), so it is pulled
    #: only and a local edit is never sent.
    write: tuple[str, Callable[[Any], Any]] | None


def _attribute(name: str, parse: Callable[[Resource, str], Any]) -> Reader:
    def read(resource: Resource, _document: Document | None) -> Any:
        return parse(resource, name) if name in resource.attributes else _ABSENT

    return read


def _integer(resource: Resource, name: str) -> int | None:
    value = resource.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise DocumentError(f"{resource.type} {resource.id}: {name} {value!r} is not a number")
    return int(str(value).strip())


def _relationship_id(name: str) -> Reader:
    """The id of a to-one relationship (PCO's id, translated to a local one by the sync)."""

    def read(resource: Resource, _document: Document | None) -> Any:
        return resource.related_id(name) if name in resource.relationships else _ABSENT

    return read


def _included_value(name: str) -> Reader:
    """The ``value`` of an included record (``include=marital_status``): a label such as
    "Married". Only where PCO sent the relationship and the document includes its record."""

    def read(resource: Resource, document: Document | None) -> Any:
        if name not in resource.relationships or document is None:
            return _ABSENT
        records = document.related(resource, name)
        if resource.related_id(name) is not None and not records:
            return _ABSENT  # named but not included: unknown, not cleared
        return text(records[0], "value") if records else None

    return read


def _text_or_none(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _iso_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)[:10]).isoformat()


def _campus_id(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


PERSON_FIELDS: tuple[PersonField, ...] = (
    PersonField("nickname", _attribute("nickname", text), ("nickname", _text_or_none)),
    PersonField("middle_name", _attribute("middle_name", text), ("middle_name", _text_or_none)),
    PersonField("membership", _attribute("membership", text), ("membership", _text_or_none)),
    PersonField("grade", _attribute("grade", _integer), ("grade", _int_or_none)),
    PersonField(
        "graduation_year",
        _attribute("graduation_year", _integer),
        ("graduation_year", _int_or_none),
    ),
    PersonField("anniversary", _attribute("anniversary", parse_date), ("anniversary", _iso_date)),
    # Written as ``primary_campus_id``; the push turns the local campus id into PCO's first.
    PersonField(
        "primary_campus", _relationship_id("primary_campus"), ("primary_campus_id", _campus_id)
    ),
    # Setting an avatar needs an upload UUID, not a URL: pulled only.
    PersonField("avatar_url", _attribute("avatar", text), None),
    # An include, not an attribute; no assignable attribute is documented for it.
    PersonField("marital_status", _included_value("marital_status"), None),
    # People 2025-11-10 (reported, not in our reference): read where PCO sends it, never written.
    PersonField("household_role", _attribute("household_role", text), None),
)

#: Fields a local edit is pushed for (PCO owns them, as it owns the names).
WRITABLE_PERSON_FIELDS = tuple(f.name for f in PERSON_FIELDS if f.write is not None)
#: Fields PCO's value always wins on, and that are never sent.
PULL_ONLY_PERSON_FIELDS = tuple(f.name for f in PERSON_FIELDS if f.write is None)


def read_person_fields(
    resource: Resource, document: Document | None, problems: list[str] | None = None
) -> dict[str, Any]:
    """The optional fields PCO sent for this person, by logical name, in local form.

    A value of the wrong shape (a grade that is not a number) leaves that one field out, its
    reason added to ``problems``: the rest of the person still syncs.
    """
    found: dict[str, Any] = {}
    for field in PERSON_FIELDS:
        try:
            value = field.read(resource, document)
        except DocumentError as error:
            if problems is not None:
                problems.append(f"{field.name} not read: {error}")
            continue
        if value is not _ABSENT:
            found[field.name] = value
    return found
