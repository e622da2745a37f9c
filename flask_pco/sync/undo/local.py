"""Reverting what a run changed in the site's database, entry by entry, newest first.

Each reversal is journaled like any write, so an undo can itself be undone. A field is put
back only while it still holds the value the run wrote: one changed since becomes a conflict
for the admin, never an overwrite. A row the run created goes only with what PCO made along
with it (its contacts, its memberships); one that gained data only the site has stays, named.
"""

from __future__ import annotations

from typing import Any

from flask_pco.models import utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.policy import comparable
from flask_pco.sync.undo.conflicts import undo_conflict
from flask_pco.sync.undo.records import delete_row, dependents, dump, find_row, reinsert, set_column
from flask_pco.sync.undo.tables import EXTENSION_TABLES, undo_extension_row
from flask_pco.sync.undo.target import Target

__all__ = ["restore_field", "undo_local", "unlink_row"]

#: The pseudo-field journaled when a row is marked removed (True) or current again (False).
REMOVED = "removed"
#: The pseudo-field a merge journals for the retired row's ``pco_merged_into``.
MERGED_INTO = "merged_into"


def undo_local(ctx: SyncContext, target: Target, entry: Any) -> None:
    """Revert one local entry of ``target``."""
    role = entry.record_type
    if role in EXTENSION_TABLES:  # a held merge closed, a removal marked undone, ...
        undo_extension_row(ctx, entry)
        return
    if not ctx.roles.has(role):
        _left(ctx, entry, f"this site has no {role} model registered any more")
        return
    action = entry.action
    if action in ("update", "deactivate"):
        restore_field(ctx, entry)
    elif action == "create":
        _remove_created(ctx, target, entry)
    elif action == "remove":
        _restore_removed(ctx, entry)
    elif action == "link":
        _undo_link(ctx, target, entry)
    elif action == "unlink":
        _relink(ctx, entry)
    else:
        _left(ctx, entry, f"a {action} is not reversed by undo")


def _left(ctx: SyncContext, entry: Any, reason: str) -> None:
    ctx.report.issue(
        "undo",
        entry.record_type,
        f"not undone: {entry.action} of {entry.record_type} {entry.local_id or entry.pco_id}"
        f"{' ' + entry.field if entry.field else ''}: {reason}",
        local_id=entry.local_id,
        pco_id=entry.pco_id,
    )


def restore_field(ctx: SyncContext, entry: Any, action: str = "update") -> None:
    """Put one field back as it was before ``entry``, journaled under ``action``."""
    role, name = entry.record_type, entry.field
    row = find_row(ctx, role, entry.local_id, entry.pco_id)
    if row is None:
        _left(ctx, entry, "the record no longer exists")
        return
    if name == REMOVED:
        _set_removed(ctx, row, entry, bool(entry.old_value), action)
        return
    if name == MERGED_INTO:
        _unmerge(ctx, row, entry, action)
        return
    column = ctx.roles.column(role, name)
    if not hasattr(row, column):
        _left(ctx, entry, f"the site has no column for {name}")
        return
    current = comparable(getattr(row, column))
    if current == comparable(entry.old_value):
        return  # already as it was
    if current != comparable(entry.new_value):
        undo_conflict(ctx, role, row, name, entry, local=current, wanted=entry.old_value)
        return
    set_column(row, column, entry.old_value)
    record_fields(ctx, role, row, {name: (entry.new_value, entry.old_value)}, action=action)
    _snapshot_back(row, name, entry.new_value, entry.old_value)
    if entry.action == "deactivate":
        row.pco_removed_at, row.pco_removed_run = None, None
    ctx.report.count("updated")


def _snapshot_back(row: Any, name: str, new: Any, old: Any) -> None:
    """The snapshot as it was: the next sync then sees what it saw before the run."""
    snapshot = row.pco_snapshot
    if snapshot is not None and name in snapshot and snapshot[name] == comparable(new):
        row.pco_snapshot = {**snapshot, name: comparable(old)}


def _set_removed(ctx: SyncContext, row: Any, entry: Any, removed: bool, action: str) -> None:
    """Mark a row removed again (a membership PCO listed again) or current again."""
    if (row.pco_removed_at is not None) == removed:
        return
    row.pco_removed_at = utcnow() if removed else None
    if not removed:
        row.pco_removed_run = None
    record_fields(ctx, entry.record_type, row, {REMOVED: (not removed, removed)}, action=action)
    ctx.report.count("removed" if removed else "created")


def _unmerge(ctx: SyncContext, row: Any, entry: Any, action: str) -> None:
    """A person a merge retired points at nobody again, or the reverse. Whether the row is
    marked removed is an entry of its own (a held merge's row was already, by its pull)."""
    if row.pco_merged_into != entry.new_value:
        _left(ctx, entry, f"merged into {row.pco_merged_into} since")
        return
    row.pco_merged_into = entry.old_value
    record_fields(ctx, entry.record_type, row, {MERGED_INTO: (entry.new_value, entry.old_value)},
                  action=action)  # fmt: skip
    ctx.report.count("updated")


def _remove_created(ctx: SyncContext, target: Target, entry: Any) -> None:
    """Delete a row the run created, with what PCO made along, unless the site added to it."""
    role = entry.record_type
    row = find_row(ctx, role, entry.local_id, entry.pco_id)
    if row is None:
        return  # gone already
    edited = _edited_since(ctx, role, row, entry.new_value)
    along, others = dependents(ctx, row)
    if edited or others:
        why = (
            f"{', '.join(edited)} changed here since"
            if edited
            else (f"{others} record{'s' if others != 1 else ''} of the site point at it")
        )
        _left(ctx, entry, f"kept, created by {target.name} but {why}")
        return
    for dependent in along:
        _delete(ctx, _role_of(ctx, dependent), dependent)
    _delete(ctx, role, row)
    ctx.report.count("removed")


def _edited_since(ctx: SyncContext, role: str, row: Any, created: Any) -> list[str]:
    values = ctx.roles.known(role, created if isinstance(created, dict) else {})
    return [
        name
        for name, value in values.items()
        if comparable(getattr(row, ctx.roles.column(role, name), None)) != comparable(value)
    ]


def _role_of(ctx: SyncContext, row: Any) -> str:
    return next(role for role, model in ctx.roles.classes.items() if isinstance(row, model))


def _delete(ctx: SyncContext, role: str, row: Any) -> None:
    """Delete a row, journaled with every column so an undo of this undo puts it back."""
    record(ctx, role, "remove", local_id=row.id, pco_id=row.pco_id, old=dump(row))
    delete_row(ctx, role, row)


def _restore_removed(ctx: SyncContext, entry: Any) -> None:
    """A membership marked removed is current again; a deleted row is put back as it was."""
    role = entry.record_type
    row = find_row(ctx, role, entry.local_id, None)
    if row is not None:
        if row.pco_removed_at is not None:
            row.pco_removed_at, row.pco_removed_run = None, None
            record_fields(ctx, role, row, {REMOVED: (True, False)})
            ctx.report.count("created")
        return
    if not isinstance(entry.old_value, dict):
        _left(ctx, entry, "the journal does not hold its values")
        return
    values = dict(entry.old_value)
    if entry.pco_id is not None and "id" not in values:
        values["pco_id"] = entry.pco_id
    row = reinsert(ctx, role, entry.local_id, values)
    if row is None and entry.local_id is not None:
        _left(ctx, entry, "its id is taken by another row")
        return
    record(ctx, role, "create", local_id=entry.local_id, pco_id=entry.pco_id, new=values)
    ctx.report.count("created")


def _undo_link(ctx: SyncContext, target: Target, entry: Any) -> None:
    """Unlink a row the run linked; a record the run created in PCO is settled with its create
    (kept in PCO, the link stays, or a next push would create it again)."""
    new = entry.new_value
    if (entry.record_type, str(new)) in target.created_in_pco:
        return
    row = find_row(ctx, entry.record_type, entry.local_id, None)
    if row is None or row.pco_id != new:
        if row is not None and row.pco_id != entry.old_value:
            _left(ctx, entry, f"linked to PCO {row.pco_id} since")
        return
    unlink_row(ctx, entry.record_type, row, entry.old_value)


def unlink_row(ctx: SyncContext, role: str, row: Any, old_pco_id: Any = None) -> None:
    """Take a row's link back (to ``old_pco_id``, or none: then it is as before it ever met
    PCO), journaled as the unlink an undo of this undo links again."""
    record(ctx, role, "unlink", row=row, pco_id=row.pco_id, old=row.pco_snapshot)
    row.pco_id = old_pco_id
    if old_pco_id is None:
        row.pco_snapshot, row.pco_synced_at, row.pco_updated_at = None, None, None
    ctx.report.count("updated")


def _relink(ctx: SyncContext, entry: Any) -> None:
    """Link again a row the run unlinked (a household PCO deleted), with its snapshot."""
    row = find_row(ctx, entry.record_type, entry.local_id, None)
    if row is None or entry.pco_id is None or row.pco_id == entry.pco_id:
        return
    if row.pco_id is not None:
        _left(ctx, entry, f"linked to PCO {row.pco_id} since")
        return
    row.pco_id = entry.pco_id
    if isinstance(entry.old_value, dict):
        row.pco_snapshot = dict(entry.old_value)
    record(ctx, entry.record_type, "link", row=row, old=None, new=entry.pco_id)
    ctx.report.count("updated")
