"""PCO's current values of what an undo would write back, read before anything is written.

One listing per record type of the records changed since the run started
(``where[updated_at][gte]``): a record the run PATCHed has changed since then. People come with
their emails and phone numbers included (``include=emails,phone_numbers``), so a contact costs
no request of its own. PCO's ``where[id]`` takes one id only, so a record the listing does not
show (a contact PATCHed without its person changing, one deleted since) costs one GET, of its
person with contacts for a contact.
"""

from __future__ import annotations

from typing import Any

from flask_pco.client.ids import path_id
from flask_pco.exceptions import NotFoundError
from flask_pco.sync.context import SyncContext
from flask_pco.sync.push.remote_index import PEOPLE_PATH, RemotePerson, remote_person
from flask_pco.sync.undo.records import find_row
from flask_pco.sync.undo.target import Target

__all__ = ["CONTACT_ROLES", "PcoNow", "contact_owner", "read_pco_now"]

#: PCO's current logical values, by (record type, PCO id); None for a record PCO no longer has.
PcoNow = dict[tuple[str, str], dict[str, Any] | None]
#: The contact roles whose fields an undo writes back, and their people's included lists.
CONTACT_ROLES = ("email", "phone")
_INCLUDE = "emails,phone_numbers"
HOUSEHOLDS_PATH = "/people/v2/households"
#: PCO's largest page: the fewest requests for a listing.
_MOST = 100


def contact_owner(ctx: SyncContext, entry: Any) -> str | None:
    """The PCO id of the person whose email or phone ``entry`` names (read from the site)."""
    row = find_row(ctx, entry.record_type, entry.local_id, entry.pco_id)
    if row is None or not ctx.roles.has("person"):
        return None
    owner = getattr(row, ctx.roles.column(entry.record_type, "person_id"), None)
    person = ctx.session.get(ctx.roles.model("person"), owner) if owner is not None else None
    return None if person is None else person.pco_id


def read_pco_now(ctx: SyncContext, target: Target) -> PcoNow:
    """PCO's current values of every record the target PATCHed."""
    people: set[str] = set()
    households: set[str] = set()
    for entry in target.entries:
        if entry.side != "pco" or entry.action != "update" or not entry.pco_id:
            continue
        if entry.record_type == "person":
            people.add(str(entry.pco_id))
        elif entry.record_type == "family":
            households.add(str(entry.pco_id))
        elif entry.record_type in CONTACT_ROLES and ctx.roles.has(entry.record_type):
            owner = contact_owner(ctx, entry)
            people.update([owner] if owner else [])
    now: PcoNow = {}
    if people:
        _read_people(ctx, target, people, now)
    if households:
        _read_households(ctx, target, households, now)
    return now


def _since(target: Target) -> dict[str, Any] | None:
    return {"updated_at": {"gte": target.started_at}} if target.started_at else None


def _read_people(ctx: SyncContext, target: Target, wanted: set[str], now: PcoNow) -> None:
    read: set[str] = set()
    if target.started_at is not None:
        pages = ctx.client.pages(
            PEOPLE_PATH, include=_INCLUDE.split(","), where=_since(target), per_page=_MOST
        )
        for document in pages:
            for resource in document.data:
                if resource.id in wanted:
                    _note_person(remote_person(resource, document), now)
                    read.add(resource.id)
    for pco_id in sorted(wanted - read):
        try:
            document = ctx.client.get(f"{PEOPLE_PATH}/{path_id(pco_id)}", {"include": _INCLUDE})
        except NotFoundError:
            now[("person", pco_id)] = None
            continue
        if document.data:
            _note_person(remote_person(document.data[0], document), now)


def _note_person(remote: RemotePerson, now: PcoNow) -> None:
    now[("person", remote.id)] = {**remote.values, "remote_id": remote.remote_id}
    for role, contacts in (("email", remote.emails), ("phone", remote.phones)):
        for contact in contacts:
            now[(role, contact.id)] = dict(contact.values)


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
