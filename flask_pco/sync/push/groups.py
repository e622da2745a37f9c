"""Pushing local group memberships to PCO Groups (the only Groups data PCO lets us write).

Only memberships of groups that came from PCO (``pco_id`` set) are pushed; groups themselves
are read-only in PCO. Each group's memberships are listed once before writing: PCO allows one
membership per person and group, so a person already in the group is linked, never added again,
and a create with an unknown outcome is looked up there before it is retried.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.exceptions import NotFoundError
from flask_pco.mapping.groups import MembershipData
from flask_pco.mapping.payloads import group_membership_attributes, membership_role
from flask_pco.sync.policy import local_values, merge, rules_for
from flask_pco.sync.push.pending import may_need_push
from flask_pco.sync.push.people import PersonPusher
from flask_pco.sync.push.records import (
    apply_local,
    changed_locally,
    create_or_reconcile,
    mark_linked,
    settle_merge,
)
from flask_pco.sync.push.remote_index import group_memberships

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["push_group_memberships_to_pco"]

_ROLE = "group_membership"


def push_group_memberships_to_pco(ctx: SyncContext) -> None:
    """Create, link or re-role the PCO membership of every local membership needing it."""
    by_group = _work_by_group(ctx)
    people = PersonPusher(ctx) if by_group else None
    ctx.report.expect(sum(len(rows) for rows in by_group.values()))
    for group_pco_id, rows in by_group.items():
        assert people is not None
        try:
            remote = group_memberships(ctx.client, group_pco_id)
        except NotFoundError:
            reason = f"PCO group {group_pco_id} no longer exists; its memberships were not pushed"
            ctx.report.issue("failed", "Group", reason, pco_id=group_pco_id)
            ctx.session.commit()
            ctx.report.advance(len(rows))
            continue
        Membership = ctx.roles.model(_ROLE)
        for row_id in rows:
            row = ctx.session.get(Membership, row_id)
            if row is not None:
                _push_membership(ctx, people, group_pco_id, row, remote)
            ctx.report.advance()
            ctx.report.checkpoint()


def _work_by_group(ctx: SyncContext) -> dict[str, list[int]]:
    """Ids of the unlinked or locally changed memberships of PCO groups, by the group's PCO id
    (ids, not rows: every per-record commit expires each row the session still holds)."""
    Membership, Group = ctx.roles.model(_ROLE), ctx.roles.model("group")
    group_id = getattr(Membership, ctx.roles.column(_ROLE, "group_id"))
    rows = ctx.session.execute(
        select(Membership, Group.pco_id)
        .join(Group, group_id == Group.id)
        .where(
            Group.pco_id.is_not(None),
            Membership.pco_removed_at.is_(None),
            may_need_push(ctx, _ROLE),  # the database drops those unchanged since the last sync
        )
        .order_by(Membership.id)
    )
    by_group: dict[str, list[int]] = defaultdict(list)
    for row, group_pco_id in rows:
        if row.pco_id is None or changed_locally(row, _ROLE, ctx):
            by_group[group_pco_id].append(row.id)
    return by_group


def _push_membership(
    ctx: SyncContext,
    people: PersonPusher,
    group_pco_id: str,
    row: Any,
    remote: dict[str, MembershipData],
) -> None:
    if row.pco_id is not None:
        _update_membership(ctx, group_pco_id, row, remote)
        return
    person_id = _person_pco_id(ctx, people, row)
    if person_id is None:
        return
    existing = remote.get(person_id)
    if existing is None:
        existing = _create_membership(ctx, group_pco_id, row, person_id, remote)
        if existing is None:
            return
        ctx.report.count("created")
    else:
        # Linking a membership PCO already had: no common base yet, so PCO's role wins.
        apply_local(ctx, row, _ROLE, {"is_leader": existing.is_leader})
        ctx.report.count("updated")
    mark_linked(ctx, row, _ROLE, existing.pco_id, None)


def _person_pco_id(ctx: SyncContext, people: PersonPusher, row: Any) -> str | None:
    Person = ctx.roles.model("person")
    person = ctx.session.get(Person, getattr(row, ctx.roles.column(_ROLE, "person_id")))
    if person is None:
        return None
    return person.pco_id or people.push(person)


def _create_membership(
    ctx: SyncContext,
    group_pco_id: str,
    row: Any,
    person_id: str,
    remote: dict[str, MembershipData],
) -> MembershipData | None:
    is_leader = bool(local_values(row, _ROLE, ctx.roles).get("is_leader"))
    attributes = group_membership_attributes(person_id, is_leader=is_leader)
    path = f"/groups/v2/groups/{path_id(group_pco_id)}/memberships"

    def send() -> MembershipData:
        created = ctx.client.create(path, "Membership", attributes)
        remote[person_id] = MembershipData(created.id, group_pco_id, person_id, is_leader)
        return remote[person_id]

    return create_or_reconcile(
        ctx,
        "Membership",
        row,
        f"PCO person {person_id}'s group membership",
        send=send,
        find=lambda: group_memberships(ctx.client, group_pco_id).get(person_id),
    )


def _update_membership(
    ctx: SyncContext, group_pco_id: str, row: Any, remote: dict[str, MembershipData]
) -> None:
    existing = next((m for m in remote.values() if m.pco_id == row.pco_id), None)
    if existing is None:
        reason = f"PCO membership {row.pco_id} no longer exists in group {group_pco_id}; pull first"
        ctx.report.issue("failed", "Membership", reason, local_id=row.id, pco_id=row.pco_id)
        ctx.session.commit()
        return
    local = local_values(row, _ROLE, ctx.roles)
    result = merge(
        row.pco_snapshot, local, {"is_leader": existing.is_leader}, *rules_for(ctx.roles, _ROLE)
    )
    path = f"/groups/v2/groups/{path_id(group_pco_id)}/memberships/{path_id(row.pco_id)}"
    settle_merge(
        ctx,
        row,
        _ROLE,
        result,
        resource_type="Membership",
        write=lambda changes: ctx.client.update(
            path, "Membership", row.pco_id, {"role": membership_role(changes["is_leader"])}
        ),
        describe=f"change the role of PCO membership {row.pco_id}",
    )
