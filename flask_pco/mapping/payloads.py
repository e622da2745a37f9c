"""Local values → the attribute and relationship blocks PCO accepts on a write.

Pure functions over logical field values (as ``policy.local_values`` gives them), so the push
never sends an attribute PCO does not let us assign (that is a 422 "Forbidden Attribute") and
the same mapping serves creates, PATCHes and dry runs. Contacts are compared in a normal form
(lower-case address, E.164 number) because PCO stores numbers as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from flask_pco.mapping.person_fields import PERSON_FIELDS
from flask_pco.mapping.phones import normalize_phone

__all__ = [
    "EMAIL_ATTRIBUTES",
    "EMAIL_LOCATION",
    "PERSON_ATTRIBUTES",
    "PHONE_ATTRIBUTES",
    "PHONE_LOCATIONS",
    "STREET_LINES_SINCE",
    "address_attributes",
    "contact_changes",
    "email_attributes",
    "group_membership_attributes",
    "household_attributes",
    "household_membership_payload",
    "household_relationships",
    "is_leader_role",
    "membership_role",
    "new_address_attributes",
    "normalize_email",
    "pco_gender",
    "person_attributes",
    "phone_attributes",
    "primary_contact",
]

#: PCO wants a location on every contact; our emails carry none, so they go in as "Home".
EMAIL_LOCATION = "Home"
#: The phone locations PCO knows; a local ``kind`` outside these becomes "Mobile".
PHONE_LOCATIONS = ("Mobile", "Home", "Work", "Other")
_GENDERS = {"m": "Male", "male": "Male", "f": "Female", "female": "Female"}


def pco_gender(value: Any) -> str | None:
    """PCO's full-word gender ("Male"/"Female", People ≥ 2022-07-14) for a local value."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    return _GENDERS.get(text.lower(), text)


def _iso_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)[:10]).isoformat()


def _status(is_active: Any) -> str:
    return "inactive" if is_active is False else "active"


#: Logical person field → (PCO attribute, conversion). Only assignable attributes appear here.
PERSON_ATTRIBUTES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "first_name": ("first_name", lambda v: (v or "").strip()),
    "last_name": ("last_name", lambda v: (v or "").strip()),
    "gender": ("gender", pco_gender),
    "dob": ("birthdate", _iso_date),
    "child": ("child", bool),
    "is_active": ("status", _status),
    # The optional fields PCO lets us write (``person_fields``); ``primary_campus`` arrives
    # here as PCO's campus id, translated by the push.
    **{field.name: field.write for field in PERSON_FIELDS if field.write is not None},
}


def person_attributes(values: Mapping[str, Any], *, remote_id: int | None = None) -> dict[str, Any]:
    """The Person attributes for the logical fields present in ``values``.

    A create passes every field plus ``remote_id`` (our id, which PCO only accepts as an integer);
    a PATCH passes only the fields the merge decided to push.
    """
    attributes = {
        attribute: convert(values[name])
        for name, (attribute, convert) in PERSON_ATTRIBUTES.items()
        if name in values
    }
    if remote_id is not None:
        attributes["remote_id"] = int(remote_id)
    return attributes


def normalize_email(address: Any) -> str:
    """The form two addresses are compared in: trimmed and lower-case."""
    return str(address or "").strip().lower()


def email_attributes(address: str, *, primary: bool) -> dict[str, Any]:
    return {"address": address.strip(), "location": EMAIL_LOCATION, "primary": bool(primary)}


def phone_location(kind: Any) -> str:
    """PCO's location for a local phone ``kind`` (PCO refuses a phone without one)."""
    text = str(kind or "").strip().capitalize()
    if text == "Cell":
        return "Mobile"
    return text if text in PHONE_LOCATIONS else "Mobile"


def phone_attributes(number: str, kind: Any, *, primary: bool) -> dict[str, Any]:
    return {
        "number": normalize_phone(number),
        "location": phone_location(kind),
        "primary": bool(primary),
    }


#: The People version that split ``street`` into ``street_line_1``/``street_line_2``.
STREET_LINES_SINCE = "2023-03-21"


def address_attributes(values: Mapping[str, Any], *, people_version: str) -> dict[str, Any]:
    """Address attributes for the family address fields present in ``values``.

    PCO keeps addresses on people; a family's address goes on its primary contact, as "Home".
    The street attribute depends on the People API version the client pins.
    """
    street = "street_line_1" if people_version >= STREET_LINES_SINCE else "street"
    names = {"street": street, "city": "city", "state": "state", "zip": "zip"}
    return {names[name]: value for name, value in values.items() if name in names}


def new_address_attributes(values: Mapping[str, Any], *, people_version: str) -> dict[str, Any]:
    """A whole new Address: every address field, plus the location and primary flag."""
    attributes = address_attributes(values, people_version=people_version)
    return {**attributes, "location": "Home", "primary": True}


#: A person-address row's fields (``person_address`` role) that are plain PCO attributes.
_PERSON_ADDRESS_PLAIN = {"city": "city", "state": "state", "zip": "zip", "location": "location"}
_STREET_LINES = ("street_line_1", "street_line_2")


def person_address_attributes(
    changes: Mapping[str, Any], whole: Mapping[str, Any], *, people_version: str
) -> dict[str, Any]:
    """Address attributes for the person-address fields in ``changes`` (``whole``: the row's
    every field). Before People 2023-03-21 the two lines travel as one ``street``, joined by a
    newline as PCO splits them, so a change to either line sends both."""
    attributes = {
        _PERSON_ADDRESS_PLAIN[name]: value
        for name, value in changes.items()
        if name in _PERSON_ADDRESS_PLAIN
    }
    if "is_primary" in changes:
        attributes["primary"] = bool(changes["is_primary"])
    lines = {name: changes[name] for name in _STREET_LINES if name in changes}
    if lines and people_version >= STREET_LINES_SINCE:
        attributes.update(lines)
    elif lines:
        merged = {**whole, **changes}
        attributes["street"] = "\n".join(str(merged[n]) for n in _STREET_LINES if merged.get(n))
    return attributes


#: Logical contact field → (PCO attribute, conversion), for PATCHes of linked contacts.
EMAIL_ATTRIBUTES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "email": ("address", lambda v: str(v or "").strip()),
    "is_primary": ("primary", bool),
}
PHONE_ATTRIBUTES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "phone": ("number", normalize_phone),
    "kind": ("location", phone_location),
    "is_primary": ("primary", bool),
}


def contact_changes(
    table: Mapping[str, tuple[str, Callable[[Any], Any]]], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The attributes of a contact PATCH for the logical fields present in ``values``."""
    return {
        attribute: convert(values[name])
        for name, (attribute, convert) in table.items()
        if name in values
    }


def _person_ref(pco_id: str) -> dict[str, str]:
    return {"type": "Person", "id": str(pco_id)}


def primary_contact(members: Iterable[tuple[str, str | None]]) -> str:
    """The PCO id of the household's primary contact: the first adult, else the first member.

    ``members`` holds ``(person pco_id, local relationship)`` pairs in the family's order.
    """
    listed = list(members)
    if not listed:
        raise ValueError("a household needs at least one member")
    adults = [pco_id for pco_id, relationship in listed if (relationship or "adult") == "adult"]
    return adults[0] if adults else listed[0][0]


def household_attributes(name: str) -> dict[str, Any]:
    return {"name": name.strip()}


def household_relationships(member_ids: Iterable[str], contact_id: str) -> dict[str, Any]:
    """The ``relationships`` block PCO requires on a Household create: its people and contact."""
    return {
        "people": {"data": [_person_ref(i) for i in member_ids]},
        "primary_contact": {"data": _person_ref(contact_id)},
    }


def household_membership_payload(person_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Attributes and relationships adding one person to a household.

    ``pending: false``: a pending membership makes PCO ask the member to confirm by email.
    """
    return {"pending": False}, {"person": {"data": _person_ref(person_id)}}


def membership_role(is_leader: Any) -> str:
    """PCO's group role; PCO has only "leader" and "member"."""
    return "leader" if is_leader else "member"


def is_leader_role(role: Any) -> bool:
    return str(role or "").strip().lower() == "leader"


def group_membership_attributes(person_id: str, *, is_leader: Any) -> dict[str, Any]:
    return {"person_id": str(person_id), "role": membership_role(is_leader)}
