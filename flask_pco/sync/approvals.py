"""Runs that wait for an admin: approve their held removals, or refuse them.

A run whose removals went over the cap (``removals``) ends ``needs_approval`` with each removal
recorded as ``pending``. Approving makes those that are still due: the row is still linked to
the same PCO record and, for a removal a listing found, PCO still missed it at its last look
(a record PCO listed again since is left alone). Refusing makes none. Either way the run's row
says what was decided; a later run that finds the same removals due asks again, and the older
run's pending removals are superseded by the newer, better-informed ones.

Webhook deliveries held by the cap wait in one open run (direction ``webhook``, sync type
``removals``); approving it applies them and marks their deliveries applied.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from flask_pco.exceptions import ConfigError
from flask_pco.models import DeliveryStatus, RunStatus, utcnow
from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.removals import Proposal, apply_removal

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "WaitingRun",
    "approve_run",
    "close_superseded_runs",
    "refuse_run",
    "supersede_pending",
    "waiting_message",
    "waiting_runs",
    "webhook_approval_run",
]

WAITING = "needs_approval"
_WHAT = {
    "person": "people would be deactivated",
    "family": "families would be unlinked from their deleted households",
    "family_member": "family members would be removed",
    "group_membership": "group memberships would be removed",
}


def waiting_message(role: str, count: int) -> str:
    return f"{count} {_WHAT.get(role, role + ' records would be removed')}: approve or refuse"


@dataclass(frozen=True, slots=True)
class WaitingRun:
    """A run waiting for approval, with the removals it holds (a sample of them, and how many)."""

    run: Any
    count: int
    sample: list[Any]


def waiting_runs(state: PcoState, sample: int = 20) -> list[WaitingRun]:
    """Top-level runs waiting for approval, newest first."""
    SyncRun, Removal = state.models.SyncRun, state.models.Removal
    runs = state.db.session.scalars(
        select(SyncRun)
        .where(SyncRun.status == WAITING, SyncRun.parent_id.is_(None))
        .order_by(SyncRun.id.desc())
    ).all()
    found = []
    for run in runs:
        pending = _pending_query(state, run).order_by(Removal.id)
        rows = state.db.session.scalars(pending.limit(sample)).all()
        total = state.db.session.scalar(select(func.count()).select_from(pending.subquery()))
        found.append(WaitingRun(run, int(total or 0), list(rows)))
    return found


def approve_run(state: PcoState, run_id: int) -> str:
    """Make the held removals of ``run_id`` that are still due; returns what was done."""
    run = _waiting(state, run_id)
    removals = state.db.session.scalars(_pending_query(state, run)).all()
    made = skipped = 0
    by_run: dict[int, list[Any]] = defaultdict(list)
    for removal in removals:
        by_run[removal.run_id].append(removal)
    for owner_id, items in by_run.items():
        owner: Any = state.db.session.get(state.models.SyncRun, owner_id)
        ctx = _context(state, owner)
        for removal in items:
            done = _still_due(ctx, removal) and apply_removal(
                ctx, _proposal(removal), run_id=removal.run_id
            )
            removal.status, removal.decided_at = ("applied" if done else "skipped"), utcnow()
            made, skipped = made + done, skipped + (not done)
            if done and removal.delivery_id is not None:
                _finish_delivery(state, removal.delivery_id, "applied", "approved by an admin")
        owner.removed = (owner.removed or 0) + ctx.report.counts["removed"]
        if owner.id != run.id:  # a step of a full run: its run adds up its steps
            run.removed = (run.removed or 0) + ctx.report.counts["removed"]
    message = f"approved: {made} removed" + (f", {skipped} no longer due" if skipped else "")
    _close(state, run, "succeeded", message)
    return f"Run {run_id} {message}."


def refuse_run(state: PcoState, run_id: int) -> str:
    """Make none of ``run_id``'s held removals; its rows stay as they are."""
    run = _waiting(state, run_id)
    removals = state.db.session.scalars(_pending_query(state, run)).all()
    for removal in removals:
        removal.status, removal.decided_at = "refused", utcnow()
        if removal.delivery_id is not None:
            _finish_delivery(state, removal.delivery_id, "ignored", "removal refused by an admin")
    message = f"refused: {len(removals)} removals not made"
    _close(state, run, "refused", message)
    return f"Run {run_id} {message}."


def supersede_pending(ctx: SyncContext, role: str) -> None:
    """A newer run holds removals of ``role``: older pending ones give way to it."""
    Removal = ctx.models.Removal
    older = ctx.session.scalars(
        select(Removal).where(
            Removal.status == "pending",
            Removal.role == role,
            Removal.delivery_id.is_(None),
        )
    ).all()
    for removal in older:
        removal.status, removal.decided_at = "superseded", utcnow()
    close_superseded_runs(ctx, {r.run_id for r in older if r.run_id is not None})


def close_superseded_runs(ctx: SyncContext, run_ids: set[int]) -> None:
    """Runs left with nothing pending are no longer waiting: a newer run asks instead."""
    SyncRun, Removal = ctx.models.SyncRun, ctx.models.Removal
    for run_id in run_ids:
        run = ctx.session.get(SyncRun, run_id)
        top = ctx.session.get(SyncRun, run.parent_id) if run and run.parent_id else run
        if top is None or top.status != WAITING:
            continue
        family = [
            top.id,
            *ctx.session.scalars(select(SyncRun.id).where(SyncRun.parent_id == top.id)),
        ]
        still = ctx.session.scalar(
            select(Removal.id)
            .where(Removal.run_id.in_(family), Removal.status == "pending")
            .limit(1)
        )
        if still is None:
            note = f"superseded: run {ctx.report.run_id} asks again about the same removals"
            _close(ctx.state, top, "superseded", note, commit=False)


def webhook_approval_run(ctx: SyncContext) -> Any:
    """The open run that holds webhook removals waiting for approval (made on first need)."""
    SyncRun = ctx.models.SyncRun
    run = ctx.session.scalar(
        select(SyncRun).where(
            SyncRun.organization == ctx.state.organization_key(),
            SyncRun.direction == "webhook",
            SyncRun.sync_type == "removals",
            SyncRun.status == WAITING,
        )
    )
    if run is None:
        now = utcnow()
        run = SyncRun(
            organization=ctx.state.organization_key(),
            sync_type="removals",
            direction="webhook",
            status=WAITING,
            trigger="webhook",
            options={},
            queued_at=now,
            started_at=now,
            finished_at=now,
        )
        ctx.session.add(run)
        ctx.session.flush()
    run.held = (run.held or 0) + 1
    run.error_message = (
        f"{run.held} removals from PCO webhooks passed PCO_MAX_REMOVALS within "
        "PCO_REMOVAL_WINDOW: approve or refuse"
    )
    return run


# -- helpers ----------------------------------------------------------------------------------


def _waiting(state: PcoState, run_id: int) -> Any:
    run = state.db.session.get(state.models.SyncRun, run_id)
    if run is None:
        raise ConfigError(f"there is no run {run_id}")
    if run.parent_id is not None:
        raise ConfigError(f"run {run_id} is a step of run {run.parent_id}: decide on that run")
    if run.status != WAITING:
        raise ConfigError(f"run {run_id} is not waiting for approval (it is {run.status})")
    return run


def _pending_query(state: PcoState, run: Any) -> Any:
    SyncRun, Removal = state.models.SyncRun, state.models.Removal
    steps = select(SyncRun.id).where(SyncRun.parent_id == run.id)
    return select(Removal).where(
        Removal.status == "pending", (Removal.run_id == run.id) | Removal.run_id.in_(steps)
    )


def _context(state: PcoState, run: Any) -> SyncContext:
    """A context for making removals on behalf of ``run``: nothing in it talks to PCO."""
    reporter = RunReporter(state, SimpleNamespace(id=run.id, parent_id=run.parent_id))
    return SyncContext(state=state, client=None, report=reporter)  # type: ignore[arg-type]


def _still_due(ctx: SyncContext, removal: Any) -> bool:
    """Webhooks said the record was deleted; a listing's miss must still stand."""
    if removal.delivery_id is not None:
        return True
    row = ctx.session.get(ctx.roles.model(removal.role), removal.local_id)
    return row is not None and (row.pco_misses or 0) >= ctx.config.remove_after_misses


def _proposal(removal: Any) -> Proposal:
    return Proposal(removal.role, removal.local_id, removal.pco_id, removal.label, removal.reason)


def _finish_delivery(state: PcoState, delivery_id: int, status: DeliveryStatus, note: str) -> None:
    Delivery = state.models.WebhookDelivery
    state.db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "held")
        .values(status=status, error_message=note, applied_at=utcnow())
    )


def _close(
    state: PcoState, run: Any, status: RunStatus, message: str, *, commit: bool = True
) -> None:
    """Record the decision on the run and its waiting steps."""
    SyncRun = state.models.SyncRun
    state.db.session.execute(
        update(SyncRun)
        .where(SyncRun.parent_id == run.id, SyncRun.status == WAITING)
        .values(status=status, error_message=message)
        .execution_options(synchronize_session=False)
    )
    run.status, run.error_message = status, message
    if commit:
        state.db.session.commit()
