"""Every role's logical fields, their kinds and the column names a host's models are guessed
by: the table ``roles`` checks host models against (kept apart so that module stays one idea
long). ``docs/integrate.md`` shows the same table; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

__all__ = [
    "DEFAULT_FIELDS",
    "KINDS",
    "KIND_WORDS",
    "LINK_COLUMNS",
    "ROLES",
    "ROLE_FIELDS",
    "SYNONYMS",
    "RoleField",
]


#: Column kinds, with the Python type the host column must hold and an SQLAlchemy type for it.
KINDS: dict[str, tuple[type, str]] = {
    "text": (str, "String/Text"),
    "date": (date, "Date"),
    "datetime": (datetime, "DateTime"),
    "bool": (bool, "Boolean"),
    "int": (int, "Integer"),
    "id": (int, "Integer ForeignKey"),
}

KIND_WORDS = {
    "text": "text",
    "date": "a date",
    "datetime": "a date and time",
    "bool": "true/false",
    "int": "a whole number",
    "id": "an id",
}


@dataclass(frozen=True, slots=True)
class RoleField:
    """One logical field of a role: its kind, whether the host must have it, and what is written."""

    name: str
    kind: str
    required: bool
    #: What the sync writes there (or, for an id, which role's id it holds).
    written: str
    #: The host column it maps to by default, when not ``name``.
    column: str | None = None
    #: For ``id`` fields: the role whose ``id`` the column holds.
    references: str | None = None


def _f(name: str, kind: str, required: bool, written: str, **more: Any) -> RoleField:
    return RoleField(name, kind, required, written, **more)


#: Every role and its logical fields; ``register_models(fields=...)`` maps them to host columns.
ROLE_FIELDS: dict[str, tuple[RoleField, ...]] = {
    "person": (
        _f("first_name", "text", True, "PCO's first name ('' when PCO has only a last name)"),
        _f("last_name", "text", True, "PCO's last name ('' when PCO has only a first name)"),
        _f("dob", "date", True, "PCO's birthdate or NULL; with the names, it matches people"),
        _f("gender", "text", False, "'M', 'F', or PCO's own label as sent; NULL when unset"),
        _f("child", "bool", False, "PCO's child flag", column="is_child"),
        _f("is_active", "bool", False, "False once PCO marks the person inactive or deletes them"),
        # The optional fields of ``mapping.person_fields``: kept only where the host has them.
        _f("nickname", "text", False, "PCO's nickname"),
        _f("middle_name", "text", False, "PCO's middle name"),
        _f("membership", "text", False, "PCO's membership label ('Member', 'Visitor', ...)"),
        _f("grade", "int", False, "PCO's grade (the church's scale; Kindergarten is 0)"),
        _f("graduation_year", "int", False, "PCO's graduation year"),
        _f("anniversary", "date", False, "PCO's anniversary date"),
        _f(
            "primary_campus",
            "id",
            False,
            "the id of the campus PCO names primary (needs the campus role)",
            column="primary_campus_id",
            references="campus",
        ),
        _f("avatar_url", "text", False, "PCO's avatar URL (pulled only)"),
        _f("marital_status", "text", False, "PCO's marital status label (pulled only)"),
        _f(
            "household_role",
            "text",
            False,
            "PCO's household role, where PCO sends one (pulled only)",
        ),
    ),
    "campus": (
        _f("name", "text", True, "the campus's name"),
        _f("time_zone", "text", False, "the campus's time zone, such as 'America/Chicago'"),
        _f("city", "text", False, "the campus's city"),
        _f("state", "text", False, "the campus's state"),
    ),
    "person_address": (
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("street_line_1", "text", True, "PCO's first street line"),
        _f("street_line_2", "text", False, "PCO's second street line or NULL"),
        _f("city", "text", False, "PCO's city"),
        _f("state", "text", False, "PCO's state"),
        _f("zip", "text", False, "PCO's zip"),
        _f("location", "text", False, "PCO's label: 'Home', 'Work', 'Other' or NULL"),
        _f("is_primary", "bool", False, "PCO's primary flag"),
    ),
    "email": (
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("email", "text", True, "the address as PCO has it"),
        _f("is_primary", "bool", False, "PCO's primary flag"),
    ),
    "phone": (
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("phone", "text", True, "E.164, such as '+15550102345'"),
        _f("kind", "text", False, "PCO's location label: 'Mobile', 'Home', 'Work', ... or NULL"),
        _f("is_primary", "bool", False, "PCO's primary flag"),
    ),
    "family": (
        _f("name", "text", True, "the household's name"),
        _f("street", "text", False, "the primary contact's street lines, joined with ', '"),
        _f("city", "text", False, "the primary contact's city"),
        _f("state", "text", False, "the primary contact's state"),
        _f("zip", "text", False, "the primary contact's zip"),
    ),
    "family_member": (
        _f("family_id", "id", True, "the family's id", references="family"),
        _f("person_id", "id", True, "the person's id", references="person"),
        _f(
            "relationship",
            "text",
            False,
            "'child' or 'adult', from PCO's child flag (kept only with the person's child column)",
        ),
    ),
    "group": (
        _f("name", "text", True, "the department's, group type's or group's name"),
        _f("kind", "text", True, "'department', 'area' (a PCO group type) or 'group'"),
        _f(
            "parent_id",
            "id",
            True,
            "the parent group's id (NULL for the department)",
            references="group",
        ),
        _f("description", "text", False, "PCO's description as plain text"),
    ),
    "group_membership": (
        _f("group_id", "id", True, "the group's id", references="group"),
        _f("person_id", "id", True, "the person's id", references="person"),
        _f("is_leader", "bool", False, "True for PCO's 'leader' role, False for 'member'"),
    ),
    "event": (
        _f("name", "text", True, "the event's name"),
        _f("starts_at", "datetime", False, "the occurrence's start, naive UTC"),
        _f("ends_at", "datetime", False, "the occurrence's end, naive UTC"),
    ),
    "location": (_f("name", "text", True, "the check-in location's name"),),
}

#: The logical fields of each role, in order.
ROLES: dict[str, tuple[str, ...]] = {
    role: tuple(f.name for f in fields) for role, fields in ROLE_FIELDS.items()
}

#: Host column names that differ from the logical names in the default mapping.
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    role: {f.name: f.column for f in fields if f.column}
    for role, fields in ROLE_FIELDS.items()
    if any(f.column for f in fields)
}

#: What ``PcoLinkedMixin`` adds, plus the primary key every role's rows are reached by.
LINK_COLUMNS = ("id", "pco_id", "pco_updated_at", "pco_synced_at", "pco_snapshot")

#: Column names hosts commonly use for a logical field, tried when suggesting a mapping.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("given_name", "forename", "firstname", "first", "given_names"),
    "last_name": ("surname", "family_name", "lastname", "last"),
    "dob": ("birth_date", "birthdate", "date_of_birth", "birthday", "born_on"),
    "gender": ("sex",),
    "child": ("is_child", "child", "is_minor", "minor"),
    "is_active": ("active", "is_current", "current"),
    "email": ("address", "email_address", "mail"),
    "phone": ("number", "phone_number", "telephone", "tel"),
    "kind": ("label", "location", "type", "phone_type"),
    "is_primary": ("primary", "preferred", "is_preferred"),
    "name": ("title", "label", "display_name", "family_name", "household_name"),
    "street": ("address", "street_address", "address_line", "address1"),
    "zip": ("postcode", "postal_code", "zip_code"),
    "state": ("region", "county", "province"),
    "city": ("town",),
    "relationship": ("role", "relation", "member_role"),
    "description": ("summary", "about", "notes"),
    "is_leader": ("leader", "is_leader"),
    "starts_at": ("start", "starts", "start_time", "begins_at", "start_at"),
    "ends_at": ("end", "ends", "end_time", "finishes_at", "end_at"),
    "street_line_1": ("street", "address_1", "address1", "line_1", "line1"),
    "street_line_2": ("address_2", "address2", "line_2", "line2"),
}
