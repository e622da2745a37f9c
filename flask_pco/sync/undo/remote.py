"""Reverting what a push changed in PCO: fields PATCHed back, records it created deleted only
when the admin asked for that explicitly (PCO people may have gained data since).

PCO's current values are read first (``pco_now``, a listing rather than a GET per record); a
field PCO changed again since the run becomes a conflict, not an overwrite.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask_pco.client.ids import path_id
from flask_pco.exceptions import NotFoundError, ValidationError
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.policy import comparable
from flask_pco.sync.push.addresses import FAMILY_ADDRESS
from flask_pco.sync.undo.conflicts import undo_conflict
from flask_pco.sync.undo.local import unlink_row
from flask_pco.sync.undo.pco_now import PcoNow
from flask_pco.sync.undo.records import find_row
from flask_pco.sync.undo.target import Target
from flask_pco.sync.undo.writers import ADDRESSES_PATH, now_role, owner_pco_id, writer_for

__all__ = ["undo_remote"]

#: Where a record a push created is deleted, by record type ({id}: its PCO id).
_DELETE_PATHS = {
    "person": "/people/v2/people/{id}",
    "family": "/people/v2/households/{id}",
    "email": "/people/v2/emails/{id}",
    "phone": "/people/v2/phone_numbers/{id}",
    "person_address": ADDRESSES_PATH + "/{id}",
    FAMILY_ADDRESS: ADDRESSES_PATH + "/{id}",
}
#: Records deleted at a URL under the record they belong to: (parent type, parent field, URL).
_NESTED_DELETE_PATHS = {
    "family_member": (
        "person",
        "person_id",
        "/people/v2/people/{owner}/household_memberships/{id}",
    ),
    "group_membership": ("group", "group_id", "/groups/v2/groups/{owner}/memberships/{id}"),
}


def undo_remote(
    ctx: SyncContext, target: Target, entry: Any, now: PcoNow, *, delete_created: bool
) -> None:
    """Revert one PCO entry of ``target``."""
    if entry.action == "update":
        _patch_back(ctx, target, entry, now, delete_created)
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


def _patch_back(ctx: SyncContext, target: Target, entry: Any, now: PcoNow, delete: bool) -> None:
    role, name, pco_id = entry.record_type, entry.field, str(entry.pco_id)
    row = _row(ctx, entry)
    if now_role(entry) == FAMILY_ADDRESS and _address_not_patched(ctx, target, entry, row, delete):
        return
    writer = writer_for(entry)
    current = now.get((now_role(entry), pco_id))
    attributes = writer.attributes(ctx, name, entry.old_value, current or {}) if writer else {}
    if writer is None or not attributes:
        _left(ctx, entry, f"undo does not write {role} {name} back to PCO")
        return
    path = writer.path(ctx, entry)
    if path is None:
        _left(ctx, entry, "the site no longer knows whose record it is")
        return
    if current is None:
        _left(ctx, entry, "PCO no longer has the record")
        return
    here = comparable(current.get(name))
    if here == comparable(entry.old_value):
        return  # PCO has the old value already
    if here != comparable(entry.new_value):
        _changed_since(ctx, entry, row, here)
        return
    try:
        ctx.client.update(path, writer.resource_type, pco_id, attributes)
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


def _row(ctx: SyncContext, entry: Any) -> Any:
    """The site's row of an entry; a family's address entries name the family by local id
    only (their PCO id is the Address's)."""
    if not ctx.roles.has(entry.record_type):
        return None
    by_pco_id = str(entry.pco_id) if now_role(entry) == entry.record_type else None
    return find_row(ctx, entry.record_type, entry.local_id, by_pco_id)


def _address_not_patched(
    ctx: SyncContext, target: Target, entry: Any, row: Any, delete: bool
) -> bool:
    """A family address field not PATCHed back: the Address was created by the run (deleted
    with it on request, so only the family's snapshot goes back; else kept, as listed), or the
    entry predates undo of addresses (it names the household, not the Address)."""
    pco_id = str(entry.pco_id)
    if (FAMILY_ADDRESS, pco_id) in target.created_in_pco:
        if delete and row is not None:
            _snapshot_back(row, entry.field, entry.new_value, entry.old_value)
        return True
    if row is not None and row.pco_id == pco_id:
        _left(ctx, entry, "journaled without its Address's PCO id (before undo wrote addresses)")
        return True
    return False


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
        nested = _NESTED_DELETE_PATHS.get(role)
        why = f"the site no longer knows its {nested[0]}" if nested else "undo does not delete it"
        _left(ctx, entry, why)
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
        return template.format(id=path_id(str(entry.pco_id)))
    if role not in _NESTED_DELETE_PATHS:
        return None
    parent, field, nested = _NESTED_DELETE_PATHS[role]
    owner = owner_pco_id(ctx, entry, parent, field)
    if owner is None:
        return None
    return nested.format(owner=path_id(owner), id=path_id(str(entry.pco_id)))
