"""How an undo writes one field back to PCO, by record type: PCO's type, the member URL, the
attributes that carry the field's old value, and where ``pco_now`` keeps PCO's current values.

A family's address fields are the one case where the journal's record type is not the record
written: they live on the Address of the family's primary contact, whose PCO id their entries
carry (``settle_merge`` with ``track_version=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_pco.client.ids import path_id
from flask_pco.mapping.payloads import (
    EMAIL_ATTRIBUTES,
    PHONE_ATTRIBUTES,
    address_attributes,
    contact_changes,
    household_attributes,
    membership_role,
    person_address_attributes,
    person_attributes,
)
from flask_pco.sync.context import SyncContext
from flask_pco.sync.push.addresses import ADDRESS_FIELDS, FAMILY_ADDRESS
from flask_pco.sync.push.remote_index import PEOPLE_PATH
from flask_pco.sync.undo.records import find_row

__all__ = [
    "ADDRESSES_PATH",
    "HOUSEHOLDS_PATH",
    "Writer",
    "now_role",
    "owner_pco_id",
    "writer_for",
]

HOUSEHOLDS_PATH = "/people/v2/households"
ADDRESSES_PATH = "/people/v2/addresses"

#: (ctx, field, old value, PCO's current values of the record) → the PATCH's attributes.
Attributes = Callable[[SyncContext, str, Any, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Writer:
    """Where and how one record type's field goes back to PCO."""

    resource_type: str
    #: (ctx, entry) → the record's member URL; None when the site no longer knows its owner.
    path: Callable[[SyncContext, Any], str | None]
    attributes: Attributes


def owner_pco_id(ctx: SyncContext, entry: Any, parent: str, field: str) -> str | None:
    """The PCO id of the record ``entry``'s row belongs to (a contact's person, a membership's
    group or person), read from the site; None when the site no longer has either row."""
    role = entry.record_type
    if not ctx.roles.has(role) or not ctx.roles.has(parent):
        return None
    row = find_row(ctx, role, entry.local_id, entry.pco_id and str(entry.pco_id))
    owner = None if row is None else getattr(row, ctx.roles.column(role, field), None)
    found = None if owner is None else ctx.session.get(ctx.roles.model(parent), owner)
    return None if found is None else found.pco_id


def _people_version(ctx: SyncContext) -> str:
    return str(ctx.client.versions.get("people", ""))


def _person(_ctx: SyncContext, name: str, value: Any, _now: dict[str, Any]) -> dict[str, Any]:
    if name == "remote_id":
        return {"remote_id": None if value is None else int(value)}
    return person_attributes({name: value})


def _person_address(ctx: SyncContext, name: str, value: Any, now: dict[str, Any]) -> dict[str, Any]:
    """Before People 2023-03-21 both lines travel as one ``street``: the other line is PCO's
    current one, so putting one line back leaves the other as PCO holds it."""
    return person_address_attributes({name: value}, now, people_version=_people_version(ctx))


def _phone_path(ctx: SyncContext, entry: Any) -> str | None:
    owner = owner_pco_id(ctx, entry, "person", "person_id")
    if owner is None:
        return None
    return f"{PEOPLE_PATH}/{path_id(owner)}/phone_numbers/{path_id(entry.pco_id)}"


def _membership_path(ctx: SyncContext, entry: Any) -> str | None:
    group = owner_pco_id(ctx, entry, "group", "group_id")
    if group is None:
        return None
    return f"/groups/v2/groups/{path_id(group)}/memberships/{path_id(entry.pco_id)}"


def _member(collection: str) -> Callable[[SyncContext, Any], str]:
    return lambda _ctx, entry: f"{collection}/{path_id(entry.pco_id)}"


WRITERS: dict[str, Writer] = {
    "person": Writer("Person", _member(PEOPLE_PATH), _person),
    "family": Writer(
        "Household",
        _member(HOUSEHOLDS_PATH),
        lambda _c, name, value, _n: household_attributes(value or "") if name == "name" else {},
    ),
    "email": Writer(
        "Email",
        _member("/people/v2/emails"),
        lambda _c, name, value, _n: contact_changes(EMAIL_ATTRIBUTES, {name: value}),
    ),
    "phone": Writer(
        "PhoneNumber",
        _phone_path,
        lambda _c, name, value, _n: contact_changes(PHONE_ATTRIBUTES, {name: value}),
    ),
    "person_address": Writer("Address", _member(ADDRESSES_PATH), _person_address),
    "group_membership": Writer(
        "Membership",
        _membership_path,
        lambda _c, name, value, _n: {"role": membership_role(value)} if name == "is_leader" else {},
    ),
    FAMILY_ADDRESS: Writer(
        "Address",
        _member(ADDRESSES_PATH),
        lambda ctx, name, value, _n: address_attributes(
            {name: value}, people_version=_people_version(ctx)
        ),
    ),
}


def now_role(entry: Any) -> str:
    """The record type whose PCO record ``entry`` changed: a family's address fields are its
    primary contact's Address."""
    if entry.record_type == "family" and entry.field in ADDRESS_FIELDS:
        return FAMILY_ADDRESS
    return str(entry.record_type)


def writer_for(entry: Any) -> Writer | None:
    return WRITERS.get(now_role(entry))
