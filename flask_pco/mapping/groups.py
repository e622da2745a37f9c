"""PCO Groups (group types, groups, memberships) → local-form values.

Locally, group types become areas and groups become groups under one "PCO Groups" department;
a membership's PCO role (``leader`` or ``member``) becomes ``is_leader``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_pco.client.jsonapi import Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import required_text, text

__all__ = [
    "GroupData",
    "GroupTypeData",
    "MembershipData",
    "group_from_resource",
    "group_type_from_resource",
    "membership_from_resource",
]

_ROLES = {"leader": True, "member": False}


@dataclass(frozen=True, slots=True)
class GroupTypeData:
    pco_id: str
    name: str
    description: str | None


@dataclass(frozen=True, slots=True)
class GroupData:
    pco_id: str
    name: str
    description: str | None
    group_type_id: str | None
    #: PCO's count of the group's members, leaders included (None if PCO did not say).
    memberships_count: int | None = None


@dataclass(frozen=True, slots=True)
class MembershipData:
    pco_id: str
    group_id: str
    person_id: str
    is_leader: bool


def group_type_from_resource(resource: Resource) -> GroupTypeData:
    _expect(resource, "GroupType")
    return GroupTypeData(
        resource.id, required_text(resource, "name"), text(resource, "description")
    )


def group_from_resource(resource: Resource) -> GroupData:
    """A Group; the plain-text description is preferred to PCO's HTML one."""
    _expect(resource, "Group")
    description = text(resource, "description_as_plain_text") or text(resource, "description")
    return GroupData(
        pco_id=resource.id,
        name=required_text(resource, "name"),
        description=description,
        group_type_id=resource.related_id("group_type"),
        memberships_count=_count(resource.get("memberships_count")),
    )


def _count(value: object) -> int | None:
    """A count PCO gives; anything else (missing, a string) is None: the groups pull then lists
    the group's memberships rather than trust it."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def membership_from_resource(resource: Resource, group_id: str | None = None) -> MembershipData:
    """A Membership; ``group_id`` is the group it was listed under when the record omits it."""
    _expect(resource, "Membership")
    role = (text(resource, "role") or "").lower()
    if role not in _ROLES:
        raise DocumentError(f"Membership {resource.id}: role {role!r} is not leader or member")
    person = resource.related_id("person") or text(resource, "person_id")
    group = resource.related_id("group") or group_id
    if not person or not group:
        raise DocumentError(f"Membership {resource.id} does not name its person and group")
    return MembershipData(resource.id, group, person, _ROLES[role])


def _expect(resource: Resource, type_: str) -> None:
    if resource.type != type_:
        raise DocumentError(f"expected a {type_}, got {resource.type} {resource.id}")
