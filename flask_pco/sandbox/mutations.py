"""Changes to sandbox data with PCO's side effects; shared by the API and the control surface.

Every function here expects the store lock to be held. Webhooks fire from the store's
listeners, so whatever path made a change, subscribers hear about it the same way.
"""

from __future__ import annotations

import secrets
from typing import Any

import phonenumbers

from flask_pco.sandbox.store import Store, utc_stamp

GENDER_WORDS = {"m": "Male", "f": "Female", "male": "Male", "female": "Female"}
PERSON_CHILDREN = ("Email", "PhoneNumber", "Address", "FieldDatum", "Membership", "ListResult")
#: A change to one of these moves its person's ``updated_at`` too, as in real PCO
#: (planningcenter/developers#313 and #604), so an incremental people pull sees it. The person
#: gets no ``person.updated`` webhook of its own: the contact's event is the notification.
#: The sandbox treats a custom field's value (FieldDatum) the same way.
CONTACTS = ("Email", "PhoneNumber", "Address", "FieldDatum")


def phone_fields(number: str, region: str = "US") -> dict[str, Any]:
    """PCO's derived phone attributes; ``number`` itself stays as typed."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return dict.fromkeys(("e164", "national", "international", "country_code"))
    fmt = phonenumbers.PhoneNumberFormat
    return {
        "e164": phonenumbers.format_number(parsed, fmt.E164),
        "national": phonenumbers.format_number(parsed, fmt.NATIONAL),
        "international": phonenumbers.format_number(parsed, fmt.INTERNATIONAL),
        "country_code": phonenumbers.region_code_for_number(parsed) or region,
    }


def normalize(table: str, changes: dict[str, Any], region: str = "US") -> dict[str, Any]:
    """Apply PCO's write-time rules: derived phone fields, gender words, status stamps."""
    changes = dict(changes)
    if table == "PhoneNumber" and "number" in changes:
        changes.update(phone_fields(str(changes["number"]), region))
    if table == "Person":
        _normalize_person(changes)
    if table == "Address" and "street" in changes:
        lines = str(changes.pop("street") or "").split("\n", 1)
        changes["street_line_1"] = lines[0]
        changes["street_line_2"] = lines[1] if len(lines) > 1 else None
    return changes


def _normalize_person(changes: dict[str, Any]) -> None:
    if changes.get("gender"):
        changes["gender"] = GENDER_WORDS.get(str(changes["gender"]).lower(), changes["gender"])
    if "status" in changes:
        inactive = changes["status"] == "inactive"
        changes.setdefault("inactivated_at", utc_stamp() if inactive else None)
    elif "inactivated_at" in changes:
        changes["status"] = "inactive" if changes["inactivated_at"] else "active"
    if isinstance(changes.get("remote_id"), str) and changes["remote_id"].isdigit():
        changes["remote_id"] = int(changes["remote_id"])


def create(
    store: Store, table: str, attrs: dict[str, Any], region: str = "US", touch_owner: bool = True
) -> dict[str, Any]:
    """Insert a record; ``touch_owner=False`` when it is part of creating its person."""
    record = store.insert(table, normalize(table, attrs, region))
    if touch_owner:
        _touch_owner(store, table, record)
    return record


def update(
    store: Store, table: str, record_id: str, changes: dict[str, Any], region: str = "US"
) -> dict[str, Any]:
    before = store.get(table, record_id)
    owner = before.get("person_id") if before else None
    record = store.update(table, record_id, normalize(table, changes, region))
    _touch_owner(store, table, record)
    if owner != record.get("person_id"):  # moved to another person: both changed
        _touch_owner(store, table, {"person_id": owner})
    return record


def _touch_owner(store: Store, table: str, record: dict[str, Any]) -> None:
    person_id = record.get("person_id")
    if table in CONTACTS and store.get("Person", person_id) is not None:
        store.update("Person", str(person_id), {}, emit=False)


def touch(store: Store, table: str, record_id: str | None) -> None:
    """Bump a parent whose derived attributes changed (a household's member list)."""
    if store.get(table, record_id) is not None:
        store.update(table, str(record_id), {})


def create_household(
    store: Store, attrs: dict[str, Any], people: list[str], primary_contact: str | None
) -> dict[str, Any]:
    """A household and its memberships; the created event fires once members are in place."""
    household = store.insert(
        "Household", {**attrs, "primary_contact_id": primary_contact or people[0]}, emit=False
    )
    for person_id in people:
        store.insert("HouseholdMembership", _membership(household["id"], person_id), emit=False)
    store.notify("Household", "created", household)
    return household


def _membership(household_id: str, person_id: str, pending: bool = False) -> dict[str, Any]:
    return {"household_id": household_id, "person_id": person_id, "pending": pending}


def add_household_member(
    store: Store, household_id: str, person_id: str, pending: bool = False
) -> dict[str, Any]:
    """Join a household; bumps the household, never the person (as real PCO does)."""
    membership = store.insert("HouseholdMembership", _membership(household_id, person_id, pending))
    touch(store, "Household", household_id)
    return membership


def add_group_membership(
    store: Store, group_id: str, person_id: str, role: str = "member", joined_at: str | None = None
) -> dict[str, Any]:
    """Join a Groups group (one ``membership.created``); the caller checks the person is not
    in the group already (PCO allows one active membership per person and group)."""
    record = {"group_id": group_id, "person_id": person_id, "role": role}
    return store.insert("Membership", {**record, "joined_at": joined_at or utc_stamp()})


def group_membership_of(store: Store, group_id: str, person_id: str) -> str | None:
    """The id of the person's membership of the group, if they have one."""
    for membership_id in store.lookup("Membership", "person_id", person_id):
        if store.tables["Membership"][membership_id]["group_id"] == group_id:
            return membership_id
    return None


def delete_household_membership(store: Store, membership_id: str) -> None:
    membership = store.delete("HouseholdMembership", membership_id)
    touch(store, "Household", membership["household_id"])


def delete_household(store: Store, household_id: str) -> None:
    store.delete_where("HouseholdMembership", "household_id", household_id)
    store.delete("Household", household_id)


def delete_person(store: Store, person_id: str) -> dict[str, Any]:
    """Remove a person with their contact data and memberships (one ``person.destroyed``)."""
    for table in PERSON_CHILDREN:
        store.delete_where(table, "person_id", person_id)
    for membership in store.delete_where("HouseholdMembership", "person_id", person_id):
        touch(store, "Household", membership["household_id"])
    return store.delete("Person", person_id)


def merge_people(store: Store, keep_id: str, remove_id: str) -> dict[str, Any]:
    """What a staff merge in the UI does: move contact data, record a PersonMerger, delete."""
    for table in ("Email", "PhoneNumber", "Address"):
        for rid in store.lookup(table, "person_id", remove_id):
            store.update(table, rid, {"person_id": keep_id}, emit=False)
    touch(store, "Person", keep_id)
    delete_person(store, remove_id)
    merger = {"person_to_keep_id": keep_id, "person_to_remove_id": remove_id}
    return store.insert("PersonMerger", merger)


DELETERS = {
    "Person": delete_person,
    "Household": delete_household,
    "HouseholdMembership": delete_household_membership,
}


def delete_record(store: Store, table: str, record_id: str) -> None:
    """Delete with the cascade and side effects that record type has in PCO."""
    deleter = DELETERS.get(table)
    if deleter is not None:
        deleter(store, record_id)
    else:
        _touch_owner(store, table, store.delete(table, record_id))


def create_subscription(store: Store, attrs: dict[str, Any], application_id: str) -> dict[str, Any]:
    attrs = {"active": True, **attrs, "application_id": application_id}
    return store.insert("Subscription", {**attrs, "authenticity_secret": new_secret()})


def new_secret() -> str:
    """A subscription's 64-hex-character authenticity secret."""
    return secrets.token_hex(32)
