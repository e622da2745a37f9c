"""What every push step does to a local row around a PCO write.

The order is the invariant that makes a killed push safe to re-run: the PCO id is written to
the row and committed the moment PCO returns it, before anything else is sent. The snapshot
and ``pco_updated_at`` are updated from PCO's answer, so the webhook echo of our own write finds
nothing new to apply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable

from flask_pco.exceptions import (
    ApiError,
    ConflictError,
    NotFoundError,
    ServerError,
    TransportError,
    ValidationError,
)
from flask_pco.models import Outcome, utcnow
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.policy import Merge, comparable, local_values, record_conflicts
from flask_pco.sync.push.pending import may_need_push, owned_columns
from flask_pco.sync.push.remote_index import parse_pco_time

if TYPE_CHECKING:
    from flask_pco.client import Resource
    from flask_pco.sync.context import SyncContext

__all__ = [
    "LOCAL_ROWS_BATCH",
    "REFUSED",
    "UNKNOWN_OUTCOME",
    "apply_local",
    "changed_locally",
    "create_or_reconcile",
    "held_create",
    "local_rows",
    "mark_linked",
    "record_rejected",
    "record_unconfirmed",
    "settle_merge",
]

log = logging.getLogger("flask_pco.sync.push")

#: PCO refused this one record (422 invalid, or 404 gone meanwhile): skip it, keep going.
REFUSED = (ValidationError, NotFoundError)
#: A write that raised one of these may or may not have happened in PCO: look before retrying.
UNKNOWN_OUTCOME = (TransportError, ServerError, ConflictError)


def mark_linked(
    ctx: SyncContext,
    row: Any,
    role: str,
    pco_id: str,
    updated_at: datetime | None,
    *,
    snapshot: Mapping[str, Any] | None = None,
) -> None:
    """Store PCO's id and version on a row and commit: from here on a re-run links, never creates.

    A new link is journaled (in this commit, with whatever the step noted before it)."""
    if row.pco_id != str(pco_id):
        record(ctx, role, "link", row=row, pco_id=str(pco_id), old=row.pco_id, new=str(pco_id))
    row.pco_id = str(pco_id)
    if updated_at is not None:
        row.pco_updated_at = updated_at
    row.pco_synced_at = utcnow()
    agreed = local_values(row, role, ctx.roles) if snapshot is None else snapshot
    # A new dict (so the JSON column sees the change) that keeps keys other steps keep there.
    row.pco_snapshot = {**(row.pco_snapshot or {}), **agreed}
    ctx.session.commit()


def settle_merge(
    ctx: SyncContext,
    row: Any,
    role: str,
    result: Merge,
    *,
    resource_type: str,
    write: Callable[[dict[str, Any]], Resource],
    describe: str,
    outcome: Outcome = "updated",
    snapshot: Callable[[Any], Mapping[str, Any]] | None = None,
    track_version: bool = True,
) -> bool:
    """Carry out a three-way merge of a linked row: send ``to_pco`` through ``write``, then take
    PCO's values and record the conflicts, and note the new agreement. False when nothing was
    settled (PCO refused the write). ``track_version=False``
    when the record written is not the row's own (a family's address lives on a person): its
    entries then carry the id of the record written, which is what an undo PATCHes back."""
    updated_at = None
    if result.to_pco:
        try:
            written = write(result.to_pco)
        except REFUSED as error:
            record_rejected(ctx, resource_type, row, error)
            return False
        ctx.report.count(outcome)
        base = row.pco_snapshot or {}  # what PCO had: only the site changed these fields
        sent = {name: (base.get(name), value) for name, value in result.to_pco.items()}
        written_id = None if track_version else str(written.id)
        record_fields(ctx, role, row, sent, side="pco", pco_id=written_id)
        if track_version:
            updated_at = parse_pco_time(written.get("updated_at"))
    apply_local(ctx, row, role, result.to_local)
    record_conflicts(ctx, role, row, result.conflicts)
    agreed = snapshot(row) if snapshot is not None else None
    mark_linked(ctx, row, role, row.pco_id, updated_at, snapshot=agreed)
    return True


def apply_local(ctx: SyncContext, row: Any, role: str, values: Mapping[str, Any]) -> None:
    """Write PCO's values (logical fields, snapshot form) onto the host row, journaled."""
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in ctx.roles.known(role, values).items():
        column = ctx.roles.column(role, name)
        current = getattr(row, column, None)
        if comparable(current) != comparable(value):
            changes[name] = (current, value)
        setattr(row, column, _local_type(current, value, name, _is_date(row, column)))
    record_fields(ctx, role, row, changes)


def _local_type(current: Any, value: Any, name: str, date_column: bool = False) -> Any:
    """Dates travel as ISO strings in snapshots; the host column wants a ``date``."""
    if isinstance(value, str) and (isinstance(current, date) or name == "dob" or date_column):
        return date.fromisoformat(value[:10])
    return value


def _is_date(row: Any, column: str) -> bool:
    """Whether the host column holds dates (a custom date field that is still empty)."""
    try:
        kind = sa_inspect(type(row)).columns[column].type.python_type
    except (KeyError, NotImplementedError, AttributeError, NoInspectionAvailable):
        return False
    return kind is date


def record_rejected(ctx: SyncContext, resource_type: str, row: Any, error: ApiError) -> None:
    """PCO refused this record (422, or 404 for a record gone meanwhile): skip it with PCO's own reason and carry on."""
    reason = f"PCO refused the {resource_type}: {error.detail or error}"
    ctx.report.issue("rejected", resource_type, reason, local_id=row.id, pco_id=row.pco_id)
    ctx.session.commit()


#: The issue kind of a write PCO never confirmed; its age decides when a retry may write again.
UNCONFIRMED = "unconfirmed"


def record_unconfirmed(ctx: SyncContext, resource_type: str, row: Any, error: Exception) -> None:
    """A write PCO never confirmed and we could not find: the next run looks again first."""
    reason = (
        f"PCO did not confirm the {resource_type} write ({error}); it was not found in PCO "
        "either, so the next push will look for it again before writing"
    )
    ctx.report.issue(UNCONFIRMED, resource_type, reason, local_id=row.id, outcome="failed")
    ctx.session.commit()
    if resource_type in ctx.unconfirmed:  # read already: a later try in this run must see it
        ctx.unconfirmed[resource_type][row.id] = utcnow()


def unconfirmed_since(ctx: SyncContext, resource_type: str) -> dict[int, datetime]:
    """Local ids with a create PCO left unconfirmed within ``PCO_UNCONFIRMED_GRACE``, and when;
    read once per run and resource type."""
    if resource_type not in ctx.unconfirmed:
        Issue = ctx.models.SyncIssue
        cutoff = utcnow() - timedelta(seconds=ctx.config.unconfirmed_grace)
        rows = ctx.session.execute(
            select(Issue.local_id, func.max(Issue.created_at))
            .where(
                Issue.kind == UNCONFIRMED,
                Issue.resource_type == resource_type,
                Issue.created_at >= cutoff,
            )
            .group_by(Issue.local_id)
        )
        ctx.unconfirmed[resource_type] = {
            local_id: at for local_id, at in rows if local_id is not None
        }
    return ctx.unconfirmed[resource_type]


def held_create(ctx: SyncContext, resource_type: str, row: Any, what: str) -> bool:
    """Whether to hold back creating ``row`` in PCO, reporting it as held if so.

    A create that timed out may still be committed by PCO after the next run has looked for it
    and not found it; a second POST then would duplicate the record. So within the grace period
    the row waits (reported as held, with when it will be created), and only a later run, that
    again does not find it in PCO, creates it.
    """
    since = unconfirmed_since(ctx, resource_type).get(row.id)
    if since is None:
        return False
    retry_at = since + timedelta(seconds=ctx.config.unconfirmed_grace)
    reason = (
        f"an earlier create of {what} was not confirmed by PCO at {since:%H:%M:%S} UTC and may "
        f"still land; the push creates it from {retry_at:%H:%M:%S} UTC if it has not"
    )
    ctx.report.issue("held", resource_type, reason, local_id=row.id, outcome="failed")
    ctx.session.commit()
    return True


T = TypeVar("T")


def create_or_reconcile(
    ctx: SyncContext,
    resource_type: str,
    row: Any,
    what: str,
    send: Callable[[], T],
    find: Callable[[], T | None] | None = None,
) -> T | None:
    """Create ``row``'s record in PCO once, whatever happens to this process or the network.

    The one way every push step creates: a row whose earlier create may still land waits
    (``held_create``); an in-flight marker is committed before the POST, so a process killed
    while PCO holds its request leaves the same trace as a timeout and the next run waits out
    the grace period instead of sending a second POST; PCO's refusal skips the record; an
    unknown outcome is looked up (``find``) before it is recorded as unconfirmed. Returns PCO's
    answer (or the record found), None when nothing was created. The marker goes with the
    caller's next commit, the one that stores PCO's id on the row.
    """
    if held_create(ctx, resource_type, row, what):
        return None
    marker = _in_flight(ctx, resource_type, row, what)
    try:
        created = send()
    except REFUSED as error:
        ctx.session.delete(marker)
        record_rejected(ctx, resource_type, row, error)
        return None
    except UNKNOWN_OUTCOME as error:
        landed = find() if find is not None else None
        ctx.session.delete(marker)
        if landed is None:
            record_unconfirmed(ctx, resource_type, row, error)
        _journal_create(ctx, resource_type, row, landed)
        return landed
    ctx.session.delete(marker)
    _journal_create(ctx, resource_type, row, created)
    return created


#: The journal's record type for a PCO resource a push creates (the local role it mirrors).
RECORD_TYPES = {
    "Person": "person",
    "Household": "family",
    "HouseholdMembership": "family_member",
    "Membership": "group_membership",
    "Email": "email",
    "PhoneNumber": "phone",
    "Address": "person_address",
}


def _journal_create(ctx: SyncContext, resource_type: str, row: Any, created: Any) -> None:
    """Note the create in PCO; written with the commit that stores its id on ``row``."""
    if created is None:
        return
    pco_id = created if isinstance(created, str) else None
    pco_id = pco_id or getattr(created, "pco_id", None) or getattr(created, "id", None)
    record_type = RECORD_TYPES.get(resource_type, resource_type.lower())
    record(ctx, record_type, "create", row=row, pco_id=pco_id and str(pco_id), side="pco")


def _in_flight(ctx: SyncContext, resource_type: str, row: Any, what: str) -> Any:
    """Commit the trace of a create about to be sent: if this process dies before PCO's answer
    is stored, the row is treated as a create PCO never confirmed."""
    marker = ctx.models.SyncIssue(
        kind=UNCONFIRMED,
        resource_type=resource_type,
        local_id=row.id,
        run_id=ctx.report.run_id,
        reason=(
            f"the create of {what} was sent to PCO at {utcnow():%H:%M:%S} UTC and the process "
            "stopped before PCO's answer was stored; the next push looks for it before writing"
        ),
        candidates=[],
    )
    ctx.session.add(marker)
    ctx.session.commit()
    return marker


def changed_locally(row: Any, role: str, ctx: SyncContext) -> bool:
    """Whether the row's PCO-owned values moved since the two sides last agreed."""
    snapshot = row.pco_snapshot
    if snapshot is None:
        return True
    local = local_values(row, role, ctx.roles)
    return any(comparable(snapshot.get(name)) != value for name, value in local.items())


#: Rows fetched at a time by ``local_rows``: the memory it holds, whatever the table's size.
LOCAL_ROWS_BATCH = 1000


def local_rows(ctx: SyncContext, role: str, *extra: str) -> Iterator[tuple[Any, bool]]:
    """The rows of ``role``'s table the database finds may need a push (``may_need_push``),
    streamed as plain rows (``id``, ``pco_id``, ``extra``) with whether they do: unlinked, or
    changed here since the two sides last agreed (what ``changed_locally`` says of the object).

    A push with nothing to push reads nothing here, whatever the table's size; the rows read
    hold only their batch, never enter the session, and are compared column by column without
    the per-row lookups ``local_values`` makes.
    """
    model = ctx.roles.model(role)
    owned = owned_columns(ctx, role)
    names = ["id", "pco_id", "pco_snapshot", *extra]
    columns = [getattr(model, name) for name in names] + [getattr(model, c) for _, c in owned]
    query = (
        select(*columns)
        .where(may_need_push(ctx, role))
        .order_by(model.id)
        .execution_options(yield_per=LOCAL_ROWS_BATCH)
    )
    first = len(names)
    for row in ctx.session.execute(query):
        snapshot = row[2]
        needs = (
            row[1] is None
            or snapshot is None
            or any(
                comparable(snapshot.get(name)) != comparable(row[first + i])
                for i, (name, _) in enumerate(owned)
            )
        )
        yield row, needs
