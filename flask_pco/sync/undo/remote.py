"""Reverting what a push changed in PCO: fields PATCHed back, records it created deleted only
when the admin asked for that explicitly (PCO people may have gained data since).

PCO's current values are read first (``pco_now``, a listing rather than a GET per record); a
field PCO changed again since the run becomes a conflict, not an overwrite.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask_pco.client.ids import path_id
from flask_pco.exceptions import NotFoundError, ValidationError
from flask_pco.mapping.payloads import (
    EMAIL_ATTRIBUTES,
    PHONE_ATTRIBUTES,
    contact_changes,
    household_attributes,
    person_attributes,
)
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.policy import comparable
from flask_pco.sync.push.remote_index import PEOPLE_PATH
from flask_pco.sync.undo.conflicts import undo_conflict
from flask_pco.sync.undo.local import unlink_row
from flask_pco.sync.undo.pco_now import HOUSEHOLDS_PATH, PcoNow, contact_owner
from flask_pco.sync.undo.records import find_row
from flask_pco.sync.undo.target import Target

__all__ = ["undo_remote"]

#: (PCO type, member path from (owner person's PCO id, record's PCO id), attributes of one
#: field's value) for each record type whose fields an undo writes back.
_Writer = tuple[str, Callable[[str | None, str], str], Callable[[str, Any], dict[str, Any]]]


def _person_attributes(name: str, value: Any) -> dict[str, Any]:
    if name == "remote_id":
        return {"remote_id": None if value is None else int(value)}
    return person_attributes({name: value})


_WRITERS: dict[str, _Writer] = {
    "person": ("Person", lambda _o, i: f"{PEOPLE_PATH}/{path_id(i)}", _person_attributes),
    "family": (
        "Household",
        lambda _o, i: f"{HOUSEHOLDS_PATH}/{path_id(i)}",
        lambda name, value: household_attributes(value or "") if name == "name" else {},
    ),
    "email": (
        "Email",
        lambda _o, i: f"/people/v2/emails/{path_id(i)}",
        lambda name, value: contact_changes(EMAIL_ATTRIBUTES, {name: value}),
    ),
    "phone": (
        "PhoneNumber",
        lambda o, i: f"{PEOPLE_PATH}/{path_id(o)}/phone_numbers/{path_id(i)}",
        lambda name, value: contact_changes(PHONE_ATTRIBUTES, {name: value}),
    ),
}
#: Where a record a push created is deleted, by record type ({id}: its PCO id).
_DELETE_PATHS = {
    "person": "/people/v2/people/{id}",
    "family": "/people/v2/households/{id}",
    "email": "/people/v2/emails/{id}",
    "phone": "/people/v2/phone_numbers/{id}",
}


def undo_remote(
    ctx: SyncContext, target: Target, entry: Any, now: PcoNow, *, delete_created: bool
) -> None:
    """Revert one PCO entry of ``target``."""
    if entry.action == "update":
        _patch_back(ctx, entry, now)
    elif entry.action == "create":
        _created(ctx, target, entry, delete_created)
    else:
        _left(ctx, entry, f"a {entry.action} in PCO is not reversed by undo")


def _left(ctx: SyncContext, entry: Any, reason: str) -> None:
    ctx.report.issue(
        "undo",
        entry.record_type,
        f"not undone in PCO: {entry.action} of {entry.record_type} {entry.pco_id}"
        f"{' ' + entry.field if entry.field else ''}: {reason}",
        local_id=entry.local_id,
        pco_id=entry.pco_id,
    )


def _patch_back(ctx: SyncContext, entry: Any, now: PcoNow) -> None:
    role, name, pco_id = entry.record_type, entry.field, str(entry.pco_id)
    writer = _WRITERS.get(role)
    attributes = writer[2](name, entry.old_value) if writer else {}
    if writer is None or not attributes:
        _left(ctx, entry, f"undo does not write {role} {name} back to PCO")
        return
    current = now.get((role, pco_id))
    if current is None:
        _left(ctx, entry, "PCO no longer has the record")
        return
    here = comparable(current.get(name))
    if here == comparable(entry.old_value):
        return  # PCO has the old value already
    row = find_row(ctx, role, entry.local_id, pco_id)
    if here != comparable(entry.new_value):
        _changed_since(ctx, entry, row, here)
        return
    owner = contact_owner(ctx, entry) if role == "phone" else None
    try:
        ctx.client.update(writer[1](owner, pco_id), writer[0], pco_id, attributes)
    except (ValidationError, NotFoundError) as error:
        _left(ctx, entry, f"PCO refused it: {error}")
        return
    current[name] = entry.old_value
    record(ctx, role, "update", row=row, local_id=entry.local_id, pco_id=pco_id, name=name,
           old=entry.new_value, new=entry.old_value, side="pco")  # fmt: skip
    if row is not None:
        _snapshot_back(row, name, entry.new_value, entry.old_value)
    ctx.report.count("updated")
    ctx.session.commit()  # per PCO write, with its entry: a killed undo re-runs where it stopped


def _changed_since(ctx: SyncContext, entry: Any, row: Any, here: Any) -> None:
    """PCO holds neither value: a conflict for the admin (or, without a local row, an issue)."""
    if row is None:
        _left(ctx, entry, f"PCO changed it again since (now {here!r})")
        return
    column = ctx.roles.column(entry.record_type, entry.field)
    local = comparable(getattr(row, column, None))
    undo_conflict(
        ctx,
        entry.record_type,
        row,
        entry.field,
        entry,
        local=local,
        wanted=entry.old_value,
        pco=here,
    )


def _snapshot_back(row: Any, name: str, new: Any, old: Any) -> None:
    """PCO agreed with the row on ``new``; now it holds ``old`` again, as before the run."""
    snapshot = row.pco_snapshot
    if snapshot is not None and comparable(snapshot.get(name)) == comparable(new):
        row.pco_snapshot = {**snapshot, name: comparable(old)}


def _created(ctx: SyncContext, target: Target, entry: Any, delete_created: bool) -> None:
    """A record the run created in PCO: deleted on request (the local row unlinked), else kept
    and named, so the admin sees what the undo left."""
    role, pco_id = entry.record_type, str(entry.pco_id)
    if not delete_created:
        _left(ctx, entry, f"created in PCO by {target.name}; kept (delete it with --delete-created"
              " or the page's checkbox)")  # fmt: skip
        return
    path = _delete_path(ctx, role, entry)
    if path is None:
        _left(ctx, entry, f"undo does not delete a {role} in PCO")
        return
    with suppress(NotFoundError):  # gone already (a person's contacts go with the person)
        ctx.client.delete(path)
    row = find_row(ctx, role, entry.local_id, pco_id) if ctx.roles.has(role) else None
    record(ctx, role, "remove", local_id=entry.local_id, pco_id=pco_id, side="pco")
    if row is not None and row.pco_id == pco_id:
        unlink_row(ctx, role, row)
    ctx.report.count("removed")
    ctx.session.commit()


def _delete_path(ctx: SyncContext, role: str, entry: Any) -> str | None:
    template = _DELETE_PATHS.get(role)
    if template is not None:
        return template.format(id=entry.pco_id)
    row = find_row(ctx, role, entry.local_id, str(entry.pco_id)) if ctx.roles.has(role) else None
    if row is None:
        return None
    if role == "family_member":
        person = _parent_pco_id(ctx, "person", role, row, "person_id")
        if person:
            return f"/people/v2/people/{person}/household_memberships/{entry.pco_id}"
    if role == "group_membership":
        group = _parent_pco_id(ctx, "group", role, row, "group_id")
        if group:
            return f"/groups/v2/groups/{group}/memberships/{entry.pco_id}"
    return None


def _parent_pco_id(ctx: SyncContext, parent: str, role: str, row: Any, field: str) -> str | None:
    """The PCO id of the row ``row`` belongs to (a membership's person or group)."""
    found = ctx.session.get(ctx.roles.model(parent), getattr(row, ctx.roles.column(role, field)))
    return None if found is None else found.pco_id
