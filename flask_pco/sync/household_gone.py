"""A household deleted in PCO: the local family stays, and stops pointing at it.

The site owns its families (a sync never deletes a local row), so a family whose household PCO
deleted keeps its name, address and members. What it loses is the link: left linked, every
push would meet a 404 and pulling could never mend it. Unlinked, the next family push links it
to a household PCO has for the same people (a merge in PCO keeps one) or creates one; an admin
who wanted the family gone removes it here first. The issue recorded says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record
from flask_pco.sync.removals import count_misses, propose, restore

__all__ = ["household_missed", "unlink_family", "unlink_missing_families"]

#: Families unlinked per commit when a full pull finds many households gone.
_BATCH = 500


def unlink_family(
    ctx: SyncContext, family: Any, *, outcome: Outcome = "removed", commit: bool = True
) -> None:
    """Forget ``family``'s deleted PCO household, and its members' links to it; record why.

    Called through ``removals`` (two looks, and the cap) for a household gone from PCO.
    """
    household_id = family.pco_id
    snapshot = family.pco_snapshot  # the entry keeps it: an undo links the family back as it was
    record(ctx, "family", "unlink", row=family, pco_id=household_id, old=snapshot)
    Member = ctx.roles.model("family_member") if ctx.roles.has("family_member") else None
    if Member is not None:
        family_id = getattr(Member, ctx.roles.column("family_member", "family_id"))
        linked = select(Member.id, Member.pco_id).where(family_id == family.id)
        for member_id, member_pco_id in ctx.session.execute(
            linked.where(Member.pco_id.is_not(None))
        ):
            record(ctx, "family_member", "unlink", local_id=member_id, pco_id=member_pco_id)
        ctx.session.execute(
            update(Member)
            .where(family_id == family.id)
            .values(pco_id=None, pco_updated_at=None, pco_snapshot=None)
            .execution_options(synchronize_session="fetch")
        )
    family.pco_id = None
    family.pco_updated_at = None
    family.pco_snapshot = None
    reason = (
        f"PCO household {household_id} was deleted in PCO. The family and its members are kept "
        "here, no longer linked to it; the next family push links the family to a household "
        "PCO has for the same people or creates one. Remove the family here if it should go."
    )
    ctx.report.issue(
        "unlinked", "Household", reason, local_id=family.id, pco_id=household_id, outcome=outcome
    )
    if commit:
        ctx.session.commit()


def unlink_missing_families(ctx: SyncContext, seen: set[str], started: datetime) -> None:
    """Count a miss for each family whose household a complete full pull
    (``Listed.complete``) no longer listed, and propose unlinking those missed often enough;
    families listed again start counting afresh.

    Only families last linked before the pull started: one linked meanwhile (a webhook, say)
    may point at a household created after the listing went past it.
    """
    Family = ctx.roles.model("family")
    linked = ctx.session.execute(
        select(Family.id, Family.pco_id, Family.pco_misses).where(
            Family.pco_id.is_not(None),
            or_(Family.pco_synced_at.is_(None), Family.pco_synced_at < started),
        )
    ).all()
    restore(ctx, "family", [row.id for row in linked if row.pco_id in seen and row.pco_misses])
    gone = [row.id for row in linked if row.pco_id not in seen]
    household_missed(ctx, gone, "a complete listing of PCO's households no longer has it")


def household_missed(ctx: SyncContext, family_ids: list[int], why: str) -> None:
    """One more look missed these families' households: propose unlinking those now due."""
    due = count_misses(ctx, "family", family_ids)
    Family = ctx.roles.model("family")
    for start in range(0, len(due), _BATCH):
        batch = select(Family).where(Family.id.in_(due[start : start + _BATCH]))
        for family in ctx.session.scalars(batch):
            reason = f"PCO household {family.pco_id}: {why}"
            propose(ctx, "family", family, f"family {family.name!r}", reason)
