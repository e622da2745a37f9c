"""Which groups' memberships a groups pull lists again.

Listing a group's memberships costs a request per group (PCO has no ``updated_at`` on a Group
or a Membership, and no filter that would list only the changed ones, REFERENCE §5.9), so a
church with 300 groups would spend 300 requests on every incremental run. What PCO does give
is each group's ``memberships_count`` in the groups listing, which is read anyway.

A complete run (not incremental), the nightly run, a catch-up after a gap in webhook
deliveries, and any run more than ``RELIST_AFTER`` after the last one that listed every group
list every group. Otherwise a group is listed only when its count differs from this site's
current linked memberships of it (a join or a leave that did not reach us, a miss pending, a
member who could not be pulled), and only while Groups membership webhooks have kept this site
current since that last full listing (``webhook_health``); without them every group is listed,
as a role change or a join and a leave in one group leave the count as it was.

The trade-off: a membership change whose webhook PCO never delivered while the subscription
looked healthy is caught by the next full listing: the nightly run, or within a day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func, select

from flask_pco.models import utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.cursors import read_cursor
from flask_pco.sync.webhook_health import membership_webhooks_healthy_since

__all__ = ["LISTED_ALL", "RELIST_AFTER", "RELIST_TRIGGERS", "groups_to_list", "lists_all"]

#: The cursor of the last run that listed every group's memberships completely.
LISTED_ALL = "group_memberships"
#: A missed change waits no longer than this for a full listing.
RELIST_AFTER = timedelta(days=1)
#: Runs that always list every group: the nightly one, and the catch-up after a webhook gap.
RELIST_TRIGGERS = ("nightly", "webhook-gap")


def lists_all(ctx: SyncContext) -> bool:
    """Whether this run lists every group's memberships (see the module's rules)."""
    if not ctx.incremental or ctx.trigger in RELIST_TRIGGERS:
        return True
    listed = read_cursor(ctx, LISTED_ALL)
    if listed is None or listed < utcnow() - RELIST_AFTER:
        return True
    return not membership_webhooks_healthy_since(
        ctx.session, ctx.models, listed, key=ctx.state.setting_key
    )


def groups_to_list(ctx: SyncContext, counts: dict[str, int | None]) -> list[str]:
    """The groups of ``counts`` (PCO id → PCO's ``memberships_count``) to list, in its order."""
    if lists_all(ctx):
        return list(counts)
    local = _linked_counts(ctx, counts)
    return [pco_id for pco_id, count in counts.items() if count is None or local[pco_id] != count]


def _linked_counts(ctx: SyncContext, pco_ids: Iterable[str]) -> dict[str, int]:
    """Each group's current memberships linked to PCO (none removed), by group PCO id: one
    query. A group not local yet counts 0."""
    Group, Membership = ctx.roles.model("group"), ctx.roles.model("group_membership")
    group_id = getattr(Membership, ctx.roles.column("group_membership", "group_id"))
    wanted = list(pco_ids)
    counts = dict.fromkeys(wanted, 0)
    rows = ctx.session.execute(
        select(Group.pco_id, func.count(Membership.id))
        .join(Membership, group_id == Group.id)
        .where(
            Group.pco_id.in_(wanted),
            Membership.pco_id.is_not(None),
            Membership.pco_removed_at.is_(None),
        )
        .group_by(Group.pco_id)
    ).all()
    counts.update({pco_id: int(n) for pco_id, n in rows})
    return counts
