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

from .push_records import plan
from .runs import SyncContext

__all__ = ["unlink_family", "unlink_missing_families"]

#: Families unlinked per commit when a full pull finds many households gone.
_BATCH = 500


def unlink_family(ctx: SyncContext, family: Any, *, outcome: str = "updated") -> None:
    """Forget ``family``'s deleted PCO household, and its members' links to it; record why.

    A dry run only counts it.
    """
    household_id = family.pco_id
    if ctx.dry_run:
        plan(ctx, outcome, f"unlink family {family.id} from deleted PCO household {household_id}")
        return
    Member = ctx.roles.model("family_member") if ctx.roles.has("family_member") else None
    if Member is not None:
        family_id = getattr(Member, ctx.roles.column("family_member", "family_id"))
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
    ctx.session.commit()


def unlink_missing_families(ctx: SyncContext, seen: set[str], started: datetime) -> None:
    """Unlink the families whose household a complete full pull (``Listed.complete``) no
    longer listed.

    Only families last linked before the pull started: one linked meanwhile (a webhook, say)
    may point at a household created after the listing went past it.
    """
    Family = ctx.roles.model("family")
    linked = ctx.session.execute(
        select(Family.id, Family.pco_id).where(
            Family.pco_id.is_not(None),
            or_(Family.pco_synced_at.is_(None), Family.pco_synced_at < started),
        )
    )
    gone = [row_id for row_id, pco_id in linked if pco_id not in seen]
    for start in range(0, len(gone), _BATCH):
        batch = select(Family).where(Family.id.in_(gone[start : start + _BATCH]))
        for family in ctx.session.scalars(batch).all():  # read before the commits below
            unlink_family(ctx, family)
        ctx.report.checkpoint(force=True)
