"""PCO Household → ``HouseholdData``: the family's name and the PCO ids of its members.

PCO's HouseholdMembership has no role (no parent/child/spouse), so the member list is only a
list of person ids; the local ``relationship`` comes from each person's ``child`` flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_pco.client.jsonapi import Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import parse_datetime, required_text

__all__ = ["HouseholdData", "household_from_resource"]


@dataclass(frozen=True, slots=True)
class HouseholdData:
    pco_id: str
    name: str
    #: PCO person ids of the members, in PCO's order.
    member_ids: tuple[str, ...]
    primary_contact_id: str | None
    updated_at: datetime | None


def household_from_resource(resource: Resource) -> HouseholdData:
    """Map one Household; its ``people`` relationship must have been included or sent."""
    if resource.type != "Household":
        raise DocumentError(f"expected a Household, got {resource.type} {resource.id}")
    if "people" not in resource.relationships:
        raise DocumentError(f"Household {resource.id} came without its people (include=people)")
    members = tuple(dict.fromkeys(i.id for i in resource.related_ids("people")))
    primary = resource.related_id("primary_contact") or _text_id(resource.get("primary_contact_id"))
    return HouseholdData(
        pco_id=resource.id,
        name=required_text(resource, "name"),
        member_ids=members,
        primary_contact_id=primary,
        updated_at=parse_datetime(resource, "updated_at"),
    )


def _text_id(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
