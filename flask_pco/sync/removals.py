"""Removals: soft, two-phase, counted, capped, and recorded so they can be read back.

A record PCO no longer has is never deleted here. What happens to it depends on its kind:

=================  ============  ==================================================
role               action        what changes on the local row
=================  ============  ==================================================
person             deactivate    ``is_active`` false; the row and its data stay
family             unlink        ``pco_id`` cleared (see ``household_gone``)
family_member      remove        ``pco_removed_at``/``pco_removed_run`` set; kept
group_membership   remove        ``pco_removed_at``/``pco_removed_run`` set; kept
=================  ============  ==================================================

**Two phases.** One look at PCO can be wrong (a listing cut short, a record between two
states), so a linked record that a complete look misses only has its ``pco_misses`` raised;
it is removed once ``PCO_REMOVE_AFTER_MISSES`` looks in a row have missed it. PCO listing it
again sets the count back to 0 and restores a removed row. A webhook that says a record was
deleted is PCO's own word, not a miss, and needs no second look.

**A cap.** The removals a step is about to make are counted per kind. More than
``PCO_MAX_REMOVALS`` of them and more than ``PCO_MAX_REMOVALS_PERCENT`` of that kind's linked
rows, and none is made: each is recorded as ``pending`` in ``pco_removal``, the run ends
``needs_approval``, and an admin approves or refuses them (``approvals``). Webhook removals
add up over ``PCO_REMOVAL_WINDOW``, so a storm of deletions in PCO is held like one big run.

Every removal made or held is a ``pco_removal`` row: what, by which run or delivery, why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from flask_pco.models import utcnow
from flask_pco.sync.journal import record
from flask_pco.sync.rows import remember_pco_values, set_fields

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = [
    "ACTIONS",
    "Proposal",
    "apply_removal",
    "count_misses",
    "over_cap",
    "person_label",
    "propose",
    "restore",
    "settle_delivery_removals",
    "settle_removals",
]

#: The action each role's removal takes.
ACTIONS = {
    "person": "deactivate",
    "family": "unlink",
    "family_member": "remove",
    "group_membership": "remove",
}
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Proposal:
    """A removal a step found due, not made yet."""

    role: str
    local_id: int
    pco_id: str | None
    label: str
    reason: str

    @property
    def action(self) -> str:
        return ACTIONS[self.role]


def count_misses(ctx: SyncContext, role: str, ids: list[int]) -> list[int]:
    """One more complete look missed these linked rows; return those now due for removal."""
    if not ids:
        return []
    model = ctx.roles.model(role)
    due: list[int] = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        ctx.session.execute(
            update(model)
            .where(model.id.in_(batch))
            .values(pco_misses=model.pco_misses + 1)
            .execution_options(synchronize_session=False)
        )
        due += ctx.session.scalars(
            select(model.id).where(
                model.id.in_(batch), model.pco_misses >= ctx.config.remove_after_misses
            )
        ).all()
    return due


def restore(ctx: SyncContext, role: str, ids: list[int]) -> None:
    """PCO lists these rows again: no misses, and no longer removed."""
    model = ctx.roles.model(role)
    for start in range(0, len(ids), _BATCH):
        ctx.session.execute(
            update(model)
            .where(model.id.in_(ids[start : start + _BATCH]))
            .values(pco_misses=0, pco_removed_at=None, pco_removed_run=None)
            .execution_options(synchronize_session=False)
        )


def propose(ctx: SyncContext, role: str, row: Any, label: str, reason: str) -> None:
    """Queue ``row``'s removal for the end of the step (``settle_removals``)."""
    ctx.removals.append(Proposal(role, row.id, row.pco_id, label, reason))


def settle_removals(ctx: SyncContext) -> None:
    """Make the step's removals, or, over the cap, hold them all for an admin's approval."""
    proposals, ctx.removals[:] = list(ctx.removals), []
    by_role: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_role[proposal.role].append(proposal)
    for role, items in by_role.items():
        if over_cap(ctx, len(items), linked_count(ctx, role)):
            _hold(ctx, role, items)
        else:
            for proposal in items:
                if apply_removal(ctx, proposal, run_id=ctx.report.run_id):
                    _record(ctx, proposal, "applied", ctx.report.run_id)
        ctx.session.commit()
        ctx.report.checkpoint(force=True)


def over_cap(ctx: SyncContext, count: int, linked: int) -> bool:
    """More than ``PCO_MAX_REMOVALS`` and more than ``PCO_MAX_REMOVALS_PERCENT`` of ``linked``
    (a limit set to 0 does not count, so 0 and 0 hold every removal)."""
    config = ctx.config
    absolute = count > config.max_removals if config.max_removals else True
    share = (
        count * 100 > config.max_removals_percent * linked if config.max_removals_percent else True
    )
    return count > 0 and absolute and share


def linked_count(ctx: SyncContext, role: str) -> int:
    """The rows of ``role`` a removal could take away: linked, and still current."""
    model = ctx.roles.model(role)
    query = select(func.count()).select_from(model).where(model.pco_id.is_not(None))
    if role == "person":
        query = query.where(getattr(model, ctx.roles.column("person", "is_active")).is_(True))
    elif role != "family":
        query = query.where(model.pco_removed_at.is_(None))
    return int(ctx.session.scalar(query) or 0)


def apply_removal(ctx: SyncContext, proposal: Proposal, *, run_id: int | None) -> bool:
    """Carry out one removal if the row is still as it was found; True if it changed."""
    row = ctx.session.get(ctx.roles.model(proposal.role), proposal.local_id)
    if row is None or row.pco_id != proposal.pco_id:
        return False
    if proposal.action == "unlink":
        from flask_pco.sync.household_gone import unlink_family

        unlink_family(ctx, row, outcome="removed", commit=False)
        return True
    if proposal.action == "deactivate":
        if not set_fields(row, "person", {"is_active": False}, ctx, action="deactivate"):
            return False
        remember_pco_values(row, {"is_active": False})
    elif row.pco_removed_at is not None:
        return False
    else:
        record(ctx, proposal.role, "remove", row=row, pco_id=row.pco_id)
    row.pco_removed_at, row.pco_removed_run = utcnow(), run_id
    if proposal.action != "unlink":
        ctx.report.count("removed")
    return True


def _hold(ctx: SyncContext, role: str, items: list[Proposal]) -> None:
    """Record the removals as pending and make the run wait; older pending ones give way."""
    from flask_pco.sync.approvals import supersede_pending, waiting_message

    supersede_pending(ctx, role)
    for proposal in items:
        _record(ctx, proposal, "pending", ctx.report.run_id)
    ctx.report.wait_for_approval(waiting_message(role, len(items)))


def settle_delivery_removals(ctx: SyncContext, delivery_id: int | None) -> int | None:
    """A webhook delivery's removals: made, or, once the window's total passes the cap, held
    in the open webhook approval run, whose id is returned (None when nothing was held)."""
    proposals, ctx.removals[:] = list(ctx.removals), []
    held_in: int | None = None
    for proposal in proposals:
        total = recent_webhook_removals(ctx, proposal.role) + 1
        if over_cap(ctx, total, linked_count(ctx, proposal.role)):
            from flask_pco.sync.approvals import webhook_approval_run

            held_in = webhook_approval_run(ctx).id
            _record(ctx, proposal, "pending", held_in, delivery_id)
        elif apply_removal(ctx, proposal, run_id=None):
            _record(ctx, proposal, "applied", None, delivery_id)
    return held_in


def _record(
    ctx: SyncContext,
    proposal: Proposal,
    status: str,
    run_id: int | None,
    delivery_id: int | None = None,
) -> None:
    ctx.session.add(
        ctx.models.Removal(
            run_id=run_id,
            delivery_id=delivery_id,
            role=proposal.role,
            local_id=proposal.local_id,
            pco_id=proposal.pco_id,
            action=proposal.action,
            label=proposal.label[:500],
            reason=proposal.reason[:2000],
            status=status,
            created_at=utcnow(),
            decided_at=utcnow() if status == "applied" else None,
        )
    )


def recent_webhook_removals(ctx: SyncContext, role: str) -> int:
    """Removals webhooks made of ``role`` within ``PCO_REMOVAL_WINDOW``."""
    Removal = ctx.models.Removal
    since = utcnow() - timedelta(seconds=ctx.config.removal_window)
    return int(
        ctx.session.scalar(
            select(func.count()).where(
                Removal.delivery_id.is_not(None),
                Removal.role == role,
                Removal.status.in_(("applied", "pending")),
                Removal.created_at >= since,
            )
        )
        or 0
    )


def person_label(ctx: SyncContext, person_id: Any) -> str:
    """A person's name for an admin to read, or their id when there is none."""
    Person = ctx.roles.model("person")
    first, last = (
        getattr(Person, ctx.roles.column("person", f)) for f in ("first_name", "last_name")
    )
    row = ctx.session.execute(select(first, last).where(Person.id == person_id)).first()
    name = f"{row[0] or ''} {row[1] or ''}".strip() if row else ""
    return name or f"person #{person_id}"
