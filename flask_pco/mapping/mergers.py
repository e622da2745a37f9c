"""PCO PersonMerger → which profile PCO kept and which it removed.

A merge in PCO (staff merging two duplicates) deletes one profile and records a PersonMerger.
PCO renders ``person_to_keep_id``/``person_to_remove_id`` as JSON numbers in attributes and as
strings in relationships (REFERENCE §0, §5.8); either is taken, as text. The ids are not checked
here: the sync refuses one that is not a PCO id before anything is asked of PCO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_pco.client.jsonapi import Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import parse_datetime

__all__ = ["PersonMergerData", "merger_from_resource"]


@dataclass(frozen=True, slots=True)
class PersonMergerData:
    """One merge: ``remove_id``'s profile was merged into ``keep_id``'s."""

    pco_id: str
    keep_id: str
    remove_id: str
    created_at: datetime | None = None


def merger_from_resource(resource: Resource) -> PersonMergerData:
    """The merge a PersonMerger resource records; ``DocumentError`` if it names no one."""
    keep, remove = _person(resource, "person_to_keep"), _person(resource, "person_to_remove")
    if not keep or not remove:
        raise DocumentError(f"person merger {resource.id} names no kept or removed person")
    return PersonMergerData(resource.id, keep, remove, parse_datetime(resource, "created_at"))


def _person(resource: Resource, name: str) -> str:
    value = resource.get(f"{name}_id")
    if value is None or value == "" or isinstance(value, bool):
        return resource.related_id(name) or ""
    return str(value)
