"""Two local people PCO merged into one: the site's data moves to the row that stays.

PCO keeps one profile and deletes the other (a PersonMerger). When both had a local row, the
row linked to the kept profile survives; the other is deactivated, never deleted, and points at
the survivor (``pco_merged_into``). What the site owns follows the person:

* columns of the person model no sync writes (allergies, photo, verification, ...): a value only
  the merged row holds moves to the survivor; where both hold different values, the survivor's
  stays and the other is kept in a ``pco_conflict`` row (``merged_from``) for an admin;
* rows that point at the person (check-ins, group and family memberships, contacts: any foreign
  key to the person table) are re-pointed at the survivor, except a membership of a family or
  group the survivor is already in, or a contact it already has, which stays where it was;
  a family or group membership linked to PCO is not moved but marked removed, since PCO deleted
  it with the removed profile (a fresh pull would not have it).

Bookkeeping the database fills for each row (a column with a computed default or ``onupdate``,
such as ``created_at``) belongs to the row, not to the person, and stays. Every merge is a
``pco_removal`` row (action ``merge``), so what was merged into what can be read back.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from flask_pco.exceptions import ConfigError
from flask_pco.mapping.person_fields import PULL_ONLY_PERSON_FIELDS
from flask_pco.models import PcoLinkedMixin, utcnow
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.policy import PCO_OWNED, comparable
from flask_pco.sync.removals import person_label
from flask_pco.sync.rows import remember_pco_values, set_fields

if TYPE_CHECKING:
    from flask_pco.state import PcoState
    from flask_pco.sync.context import SyncContext

__all__ = [
    "HELD_MERGE",
    "drop_cascaded_memberships",
    "held_merge",
    "local_owned_columns",
    "merge_held",
    "merge_rows",
]

#: The issue kind of a merge held for an admin (``PCO_AUTO_MERGE`` off).
HELD_MERGE = "merged"
#: For rows of these roles, what makes one a duplicate of a row the survivor already has.
SAME_AS = {
    "family_member": "family_id",
    "group_membership": "group_id",
    "email": "email",
    "phone": "phone",
    "person_address": "street_line_1",
}
#: Roles whose PCO-linked rows PCO deletes with a merged-away profile: they are marked removed
#: on the retired row rather than moved (a local-only row still moves).
PCO_CASCADED = ("family_member", "group_membership")


def merge_rows(ctx: SyncContext, survivor: Any, merged: Any, reason: str) -> str:
    """Move ``merged``'s local data onto ``survivor`` and retire ``merged``; the caller commits.

    Returns what was done, in words.
    """
    conflicts = _move_columns(ctx, survivor, merged)
    drop_cascaded_memberships(ctx, merged)  # moved, the survivor would keep them for good
    moved = _move_references(ctx, survivor, merged)
    _retire(ctx, survivor, merged, reason)
    ctx.session.flush()
    ctx.session.expire(survivor)  # its relationships: rows were moved behind the ORM's back
    return (
        f"local person {merged.id} merged into {survivor.id}: {moved} related rows moved, "
        f"{conflicts} conflicting values kept for an admin"
    )


def local_owned_columns(ctx: SyncContext) -> list[str]:
    """The person model's attributes the site owns: not the key, not the sync's bookkeeping,
    not a field PCO fills (owned or pulled only), and not filled by the database for each row."""
    roles = ctx.roles
    pco_fields = (*PCO_OWNED["person"], *PULL_ONLY_PERSON_FIELDS)
    pco_owned = {roles.column("person", f) for f in pco_fields}
    linked = set(PcoLinkedMixin.__annotations__)
    names = []
    for prop in sa_inspect(roles.model("person")).column_attrs:
        column = prop.columns[0]
        if column.primary_key or prop.key in pco_owned or prop.key in linked:
            continue
        if _filled_per_row(column):
            continue
        names.append(prop.key)
    return names


def _filled_per_row(column: Any) -> bool:
    default = column.default
    computed = default is not None and getattr(default, "is_callable", False)
    return bool(computed or column.onupdate is not None or column.server_onupdate is not None)


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def _move_columns(ctx: SyncContext, survivor: Any, merged: Any) -> int:
    """Fill the survivor's empty local-owned columns from ``merged``; count the conflicts."""
    conflicts = 0
    mapper = sa_inspect(type(survivor))
    unique = {prop.key for prop in mapper.column_attrs if prop.columns[0].unique}
    for name in local_owned_columns(ctx):
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if _empty(theirs) or comparable(mine) == comparable(theirs):
            continue
        if _empty(mine):
            if name in unique:  # one row may hold it at a time (a login's id, a badge number)
                record_fields(ctx, "person", merged, {name: (theirs, None)}, action="merge")
                setattr(merged, name, None)
                ctx.session.flush()
            record_fields(ctx, "person", survivor, {name: (mine, theirs)}, action="merge")
            setattr(survivor, name, theirs)
            continue
        conflicts += 1
        conflict = ctx.models.Conflict(
            role="person",
            local_id=survivor.id,
            pco_id=survivor.pco_id,
            field=name,
            base_value=None,
            local_value=comparable(theirs),
            pco_value=comparable(mine),
            merged_from=merged.id,
        )
        ctx.session.add(conflict)
        record(ctx, conflict.__tablename__, "create", row=conflict)  # an undo takes it away
    return conflicts


def _move_references(ctx: SyncContext, survivor: Any, merged: Any) -> int:
    """Point every row that refers to ``merged`` at ``survivor``; the number moved."""
    by_table = _registered_references(ctx)
    moved = 0
    for table, column in _references(ctx):
        role = by_table.get((table.name, column.name))
        if role is not None:
            moved += _move_role_rows(ctx, role, survivor, merged)
            continue
        moved += _move_table_rows(ctx, table, column, survivor, merged)
    return moved


def _move_table_rows(
    ctx: SyncContext, table: Table, column: Any, survivor: Any, merged: Any
) -> int:
    """Re-point a host table's rows at once. A constraint of the host's that refuses it (one
    badge per person, and both have one) leaves them where they were, said in an issue, rather
    than failing every pull that meets this merge."""
    statement = update(table).where(column == merged.id).values({column.name: survivor.id})
    keys = list(table.primary_key.columns)
    ids = ctx.session.scalars(select(keys[0]).where(column == merged.id)).all() if keys else []
    try:
        with ctx.session.begin_nested():
            result = ctx.session.execute(statement)
    except IntegrityError as error:
        why = str(error.orig).splitlines()[0] if error.orig else "a constraint refused it"
        ctx.report.issue(
            "invalid",
            "Person",
            f"merging local person {merged.id} into {survivor.id}: the rows of "
            f"{table.name}.{column.name} stay with {merged.id} ({why})",
            local_id=merged.id,
        )
        return 0
    for row_id in ids:  # a host table's rows: the entry names the table, not a role
        record(ctx, table.name, "merge", local_id=row_id, name=column.name,
               old=merged.id, new=survivor.id)  # fmt: skip
    return result.rowcount or 0


def _references(ctx: SyncContext) -> Iterator[tuple[Table, Any]]:
    """Every (table, column) with a foreign key to the person table's key."""
    people: Table = ctx.roles.model("person").__table__
    for table in people.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.references(people):
                yield table, key.parent


def _registered_references(ctx: SyncContext) -> dict[tuple[str, str], str]:
    """(table, column) → role, for the registered roles whose rows say whose they are."""
    found = {}
    for role in SAME_AS:
        if ctx.roles.has(role):
            model = ctx.roles.model(role)
            column = sa_inspect(model).columns[ctx.roles.column(role, "person_id")]
            found[(model.__table__.name, column.name)] = role
    return found


def _move_role_rows(ctx: SyncContext, role: str, survivor: Any, merged: Any) -> int:
    """Move ``merged``'s rows of ``role``, but not one the survivor already has a twin of."""
    model = ctx.roles.model(role)
    owner = ctx.roles.column(role, "person_id")
    same = ctx.roles.column(role, SAME_AS[role])
    rows = ctx.session.scalars(
        select(model).where(getattr(model, owner).in_((survivor.id, merged.id)))
    ).all()
    taken = {_fold(getattr(r, same)) for r in rows if getattr(r, owner) == survivor.id}
    moved = 0
    for row in rows:
        if role in PCO_CASCADED and row.pco_removed_at is not None:
            continue  # a membership PCO ended stays with the row whose it was
        if getattr(row, owner) == merged.id and _fold(getattr(row, same)) not in taken:
            moved_to = {"person_id": (merged.id, survivor.id)}
            record_fields(ctx, role, row, moved_to, action="merge")
            setattr(row, owner, survivor.id)
            taken.add(_fold(getattr(row, same)))
            moved += 1
    ctx.session.flush()
    return moved


def drop_cascaded_memberships(ctx: SyncContext, person: Any) -> int:
    """Mark removed the family and group memberships linked to PCO that ``person`` (the local
    row of a profile PCO merged away) holds: PCO deleted them with the profile, sending no
    webhook of their own, and a pull would only notice after ``PCO_REMOVE_AFTER_MISSES``.
    Local-only memberships stay. Returns how many were marked."""
    marked = 0
    for role in PCO_CASCADED:
        if not ctx.roles.has(role):
            continue
        model = ctx.roles.model(role)
        owner = getattr(model, ctx.roles.column(role, "person_id"))
        query = select(model).where(owner == person.id, model.pco_id.is_not(None))
        for row in ctx.session.scalars(query.where(model.pco_removed_at.is_(None))).all():
            record_fields(ctx, role, row, {"removed": (False, True)}, action="merge")
            row.pco_removed_at = utcnow()
            marked += 1
    ctx.session.flush()
    return marked


def _fold(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _retire(ctx: SyncContext, survivor: Any, merged: Any, reason: str) -> None:
    """Deactivate ``merged`` (never delete it), point it at the survivor, and record it."""
    if set_fields(merged, "person", {"is_active": False}, ctx, action="merge"):
        remember_pco_values(merged, {"is_active": False})
    if merged.pco_removed_at is None:  # a held merge's row was deactivated by its pull
        record_fields(ctx, "person", merged, {"removed": (False, True)}, action="merge")
        merged.pco_removed_at = utcnow()
    into = {"merged_into": (merged.pco_merged_into, survivor.id)}
    record_fields(ctx, "person", merged, into, action="merge")
    merged.pco_merged_into = survivor.id
    ctx.session.add(
        ctx.models.Removal(
            run_id=ctx.report.run_id,
            delivery_id=ctx.delivery_id,  # a merge a webhook carried: its undo finds the row
            role="person",
            local_id=merged.id,
            pco_id=merged.pco_id,
            action="merge",
            label=person_label(ctx, merged.id)[:500],
            reason=reason[:2000],
            status="applied",
            created_at=utcnow(),
            decided_at=utcnow(),
        )
    )


def held_merge(state: PcoState, issue_id: int) -> Any:
    """The open held merge ``issue_id``; a ``ConfigError`` says why it cannot be carried out."""
    issue = state.db.session.get(state.models.SyncIssue, issue_id)
    if issue is None or issue.kind != HELD_MERGE or not issue.candidates:
        raise ConfigError(f"issue {issue_id} is not a held merge")
    if issue.resolved_at is not None:
        raise ConfigError(f"issue {issue_id} was already settled ({issue.resolution})")
    return issue


def merge_held(state: PcoState, issue_id: int, *, trigger: str = "cli") -> str:
    """Carry out a merge that was held for an admin; returns what was done, in words.

    The merge is a run of its own (direction ``merge``, type ``person``): it takes the
    organisation's run slot (a pull cannot move the same rows meanwhile), is listed with the
    other runs, and its journal entries carry its id, so ``flask pco undo`` reverts it.
    """
    from flask_pco.sync.context import SyncContext, reporting
    from flask_pco.sync.runs import begin_run, queue_run

    survivor, merged = _held_pair(state, held_merge(state, issue_id))
    options = {"issue_id": issue_id, "local_id": merged.id, "into": survivor.id}
    run = queue_run(state, "person", "merge", trigger=trigger, options=options)
    begin_run(state, run)
    # No request is made: the client is never asked for (a site may run this offline).
    with reporting(state, run, _NO_CLIENT) as report:  # type: ignore[arg-type]
        ctx = SyncContext(state, None, report, trigger=trigger)  # type: ignore[arg-type]
        issue = held_merge(state, issue_id)
        survivor, merged = _held_pair(state, issue)  # as they are now the slot is held
        report.step("merge")
        done = merge_rows(ctx, survivor, merged, f"merged by an admin (issue {issue_id}): "
                          f"{issue.reason}")  # fmt: skip
        _settle_issue(ctx, issue, f"merged:{survivor.id}")
        report.count("updated")
    return done[0].upper() + done[1:] + f" (run {run.id}: `flask pco undo {run.id}` reverts it)."


#: What ``reporting`` reads of a client: an admin's merge makes no request.
_NO_CLIENT = SimpleNamespace(request_count=0)


def _held_pair(state: PcoState, issue: Any) -> tuple[Any, Any]:
    """(survivor, merged) of a held merge, or a ``ConfigError`` saying why not."""
    Person = state.roles.model("person")
    merged = state.db.session.get(Person, issue.local_id)
    survivor = state.db.session.get(Person, int(issue.candidates[0]))
    if merged is None or survivor is None:
        raise ConfigError(f"issue {issue.id}: one of the two local people no longer exists")
    if merged.pco_merged_into is not None:
        raise ConfigError(
            f"local person {merged.id} was already merged into {merged.pco_merged_into}"
        )
    return survivor, merged


def _settle_issue(ctx: SyncContext, issue: Any, resolution: str) -> None:
    """Close the held merge, journaled (an undo opens it again for the admin)."""
    resolved_at = utcnow()
    changes = {"resolution": (issue.resolution, resolution),
               "resolved_at": (issue.resolved_at, resolved_at)}  # fmt: skip
    for name, (old, new) in changes.items():
        record(ctx, issue.__tablename__, "update", local_id=issue.id, name=name, old=old, new=new)
    issue.resolved_at, issue.resolution = resolved_at, resolution
