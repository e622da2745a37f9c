"""PCO's current values of what an undo would write back, read before anything is written.

One listing per record type of the records changed since the run started
(``where[updated_at][gte]``): a record the run PATCHed has changed since then. People come with
their emails, phone numbers and (when the run wrote one) addresses included, so a contact or a
family's address (on its primary contact) costs no request of its own. A group's memberships
are one listing per group the run re-roled someone in. PCO's ``where[id]`` takes one id only,
so a record the listing does not show (a contact PATCHed without its person changing, one
deleted since) costs one GET, of its person with contacts for a contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_pco.client.ids import path_id
from flask_pco.exceptions import NotFoundError
from flask_pco.sync.context import SyncContext
from flask_pco.sync.push.addresses import FAMILY_ADDRESS
from flask_pco.sync.push.remote_index import (
    PEOPLE_PATH,
    RemotePerson,
    group_memberships,
    remote_person,
)
from flask_pco.sync.undo.records import find_row
from flask_pco.sync.undo.target import Target
from flask_pco.sync.undo.writers import HOUSEHOLDS_PATH, now_role, owner_pco_id

__all__ = ["CONTACT_ROLES", "HOUSEHOLDS_PATH", "PcoNow", "read_pco_now"]

#: PCO's current logical values, by (record type, PCO id); None for a record PCO no longer has.
PcoNow = dict[tuple[str, str], dict[str, Any] | None]
#: The contact roles whose fields an undo writes back: their people's included lists.
CONTACT_ROLES = ("email", "phone", "person_address")
_INCLUDE = ("emails", "phone_numbers")
#: PCO's largest page: the fewest requests for a listing.
_MOST = 100


@dataclass
class _Wanted:
    """What to read: people (with contacts), households, groups' memberships."""

    people: set[str] = field(default_factory=set)
    households: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    #: Whether the people must come with their addresses.
    addresses: bool = False

    def include(self) -> list[str]:
        return [*_INCLUDE, *(["addresses"] if self.addresses else [])]


def read_pco_now(ctx: SyncContext, target: Target) -> PcoNow:
    """PCO's current values of every record the target PATCHed."""
    wanted = _wanted(ctx, target)
    now: PcoNow = {}
    if wanted.people:
        _read_people(ctx, target, wanted, now)
    if wanted.households:
        _read_households(ctx, target, wanted.households, now)
    for group in sorted(wanted.groups):
        _read_group(ctx, group, now)
    return now


def _wanted(ctx: SyncContext, target: Target) -> _Wanted:
    wanted = _Wanted()
    Entry = target.model
    pco_updates = (Entry.side == "pco", Entry.action == "update", Entry.pco_id.is_not(None))
    for entry in target.entries_where(ctx.session, *pco_updates):
        if not entry.pco_id:
            continue
        role = now_role(entry)
        if role == "person":
            wanted.people.add(str(entry.pco_id))
        elif role == "family":
            wanted.households.add(str(entry.pco_id))
        elif role == FAMILY_ADDRESS:
            wanted.addresses = True
            wanted.people.update(_primary_contact(ctx, entry))
        elif role in CONTACT_ROLES:
            wanted.addresses |= role == "person_address"
            wanted.people.update(_some(owner_pco_id(ctx, entry, "person", "person_id")))
        elif role == "group_membership":
            wanted.groups.update(_some(owner_pco_id(ctx, entry, "group", "group_id")))
    return wanted


def _some(pco_id: str | None) -> list[str]:
    return [pco_id] if pco_id else []


def _primary_contact(ctx: SyncContext, entry: Any) -> list[str]:
    """The person whose Address holds the family's address: where the push wrote it."""
    family = find_row(ctx, "family", entry.local_id, None) if ctx.roles.has("family") else None
    return _some((family.pco_snapshot or {}).get("primary_contact") if family else None)


def _since(target: Target) -> dict[str, Any] | None:
    return {"updated_at": {"gte": target.started_at}} if target.started_at else None


def _read_people(ctx: SyncContext, target: Target, wanted: _Wanted, now: PcoNow) -> None:
    read: set[str] = set()
    include = wanted.include()
    if target.started_at is not None:
        pages = ctx.client.pages(PEOPLE_PATH, include=include, where=_since(target), per_page=_MOST)
        for document in pages:
            for resource in document.data:
                if resource.id in wanted.people:
                    _note_person(remote_person(resource, document), now)
                    read.add(resource.id)
    for pco_id in sorted(wanted.people - read):
        params = {"include": ",".join(include)}
        try:
            document = ctx.client.get(f"{PEOPLE_PATH}/{path_id(pco_id)}", params)
        except NotFoundError:
            now[("person", pco_id)] = None
            continue
        if document.data:
            _note_person(remote_person(document.data[0], document), now)


def _note_person(remote: RemotePerson, now: PcoNow) -> None:
    now[("person", remote.id)] = {**remote.values, "remote_id": remote.remote_id}
    for role, contacts in (
        ("email", remote.emails),
        ("phone", remote.phones),
        ("person_address", remote.addresses),
    ):
        for contact in contacts:
            now[(role, contact.id)] = dict(contact.values)
    for address in remote.addresses:
        now[(FAMILY_ADDRESS, address.id)] = _family_fields(address.values)


def _family_fields(values: dict[str, Any]) -> dict[str, Any]:
    """An Address as a family's fields (the pull's ``as_family_fields``: lines joined)."""
    lines = [values.get(name) for name in ("street_line_1", "street_line_2")]
    street = ", ".join(str(line) for line in lines if line) or None
    return {"street": street, **{name: values.get(name) for name in ("city", "state", "zip")}}


def _read_households(ctx: SyncContext, target: Target, wanted: set[str], now: PcoNow) -> None:
    if target.started_at is not None:
        listing = ctx.client.iterate(HOUSEHOLDS_PATH, where=_since(target), per_page=_MOST)
        for resource in listing:
            if resource.id in wanted:
                now[("family", resource.id)] = {"name": resource.attributes.get("name")}
    for pco_id in sorted(wanted - {i for r, i in now if r == "family"}):
        try:
            document = ctx.client.get(f"{HOUSEHOLDS_PATH}/{path_id(pco_id)}")
        except NotFoundError:
            now[("family", pco_id)] = None
            continue
        if document.data:
            now[("family", pco_id)] = {"name": document.data[0].attributes.get("name")}


def _read_group(ctx: SyncContext, group_pco_id: str, now: PcoNow) -> None:
    """A group's memberships, one listing (PCO has no filter by membership id)."""
    try:
        memberships = group_memberships(ctx.client, group_pco_id)
    except NotFoundError:
        return  # the group is gone, and its memberships with it: read as absent
    for membership in memberships.values():
        now[("group_membership", membership.pco_id)] = {"is_leader": membership.is_leader}
