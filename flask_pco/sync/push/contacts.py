"""A person's emails, phone numbers and addresses: add what PCO lacks, PATCH what was edited here.

A contact PCO already holds (same lower-case address, same E.164 number, same first street
line) is linked rather than
added again: that is what makes a re-run after a kill, or after a person was linked by email,
add nothing twice. A linked contact edited here goes through the same three-way merge as the
person. One table describes every kind so the code path is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.mapping.payloads import (
    EMAIL_ATTRIBUTES,
    PHONE_ATTRIBUTES,
    contact_changes,
    email_attributes,
    person_address_attributes,
    phone_attributes,
)
from flask_pco.sync.policy import local_values, merge, rules_for
from flask_pco.sync.push.records import (
    apply_local,
    changed_locally,
    create_or_reconcile,
    local_rows,
    mark_linked,
    settle_merge,
)
from flask_pco.sync.push.remote_index import (
    PEOPLE_PATH,
    RemoteContact,
    RemotePerson,
    parse_pco_time,
)

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["CONTACTS", "ContactSpec", "push_contacts"]


@dataclass(frozen=True)
class ContactSpec:
    """How one kind of contact is read from the host, written to PCO, and found in PCO."""

    role: str
    resource_type: str
    collection: str
    value_field: str
    payload: Callable[[SyncContext, Any], dict[str, Any]]
    find: Callable[[RemotePerson, str], RemoteContact | None]
    #: Logical field → PCO attribute table for PATCHes.
    attributes: dict[str, tuple[str, Callable[[Any], Any]]]
    #: The member URL of one contact, from (person PCO id, contact PCO id).
    member_path: Callable[[str, str], str]
    listed: Callable[[RemotePerson], tuple[RemoteContact, ...]]
    #: The attributes of a PATCH for the logical fields changed (default: from ``attributes``).
    patch: Callable[[SyncContext, Any, dict[str, Any]], dict[str, Any]] | None = None

    def changes(self, ctx: SyncContext, row: Any, changes: dict[str, Any]) -> dict[str, Any]:
        if self.patch is not None:
            return self.patch(ctx, row, changes)
        return contact_changes(self.attributes, changes)

    def rows(self, ctx: SyncContext, person: Any) -> list[Any]:
        if not ctx.roles.has(self.role):
            return []
        model = ctx.roles.model(self.role)
        owner = getattr(model, ctx.roles.column(self.role, "person_id"))
        return list(ctx.session.scalars(select(model).where(owner == person.id).order_by(model.id)))

    def pending_owners(self, ctx: SyncContext) -> set[int]:
        """Ids of people owning a contact of this kind that is unlinked or edited here."""
        if not ctx.roles.has(self.role):
            return set()
        column = ctx.roles.column(self.role, "person_id")
        return {getattr(row, column) for row, needs in local_rows(ctx, self.role, column) if needs}

    def value(self, ctx: SyncContext, row: Any) -> str:
        return str(getattr(row, ctx.roles.column(self.role, self.value_field)) or "")


def _column(ctx: SyncContext, row: Any, role: str, name: str) -> Any:
    return getattr(row, ctx.roles.column(role, name), None)


def _address(ctx: SyncContext, row: Any, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A person-address row as Address attributes: all of it, or only ``changes``."""
    whole = local_values(row, "person_address", ctx.roles)
    version = ctx.client.versions.get("people", "")
    return person_address_attributes(
        whole if changes is None else changes, whole, people_version=version
    )


CONTACTS: tuple[ContactSpec, ...] = (
    ContactSpec(
        role="email",
        resource_type="Email",
        collection="emails",
        value_field="email",
        payload=lambda ctx, row: email_attributes(
            _column(ctx, row, "email", "email") or "",
            primary=bool(_column(ctx, row, "email", "is_primary")),
        ),
        find=RemotePerson.email,
        attributes=EMAIL_ATTRIBUTES,
        member_path=lambda _person, contact: f"/people/v2/emails/{path_id(contact)}",
        listed=lambda remote: remote.emails,
    ),
    ContactSpec(
        role="phone",
        resource_type="PhoneNumber",
        collection="phone_numbers",
        value_field="phone",
        payload=lambda ctx, row: phone_attributes(
            _column(ctx, row, "phone", "phone") or "",
            _column(ctx, row, "phone", "kind"),
            primary=bool(_column(ctx, row, "phone", "is_primary")),
        ),
        find=RemotePerson.phone,
        attributes=PHONE_ATTRIBUTES,
        member_path=lambda person, contact: (
            f"{PEOPLE_PATH}/{path_id(person)}/phone_numbers/{path_id(contact)}"
        ),
        listed=lambda remote: remote.phones,
    ),
    ContactSpec(
        role="person_address",
        resource_type="Address",
        collection="addresses",
        value_field="street_line_1",
        payload=lambda ctx, row: _address(ctx, row),
        find=RemotePerson.address,
        attributes={},
        member_path=lambda _person, contact: f"/people/v2/addresses/{path_id(contact)}",
        listed=lambda remote: remote.addresses,
        patch=_address,
    ),
)


def push_contacts(ctx: SyncContext, person: Any, remote: RemotePerson | None) -> None:
    """Link, create or update each contact of ``person`` that needs it; ``remote`` is None
    only in a dry run for a person that would be created."""
    for spec in CONTACTS:
        for row in spec.rows(ctx, person):
            if row.pco_id is None:
                _push_contact(ctx, spec, person, row, remote)
            elif remote is not None and changed_locally(row, spec.role, ctx):
                _update_contact(ctx, spec, person, row, remote)


def _push_contact(
    ctx: SyncContext, spec: ContactSpec, person: Any, row: Any, remote: RemotePerson | None
) -> None:
    existing = spec.find(remote, spec.value(ctx, row)) if remote else None
    if existing is not None:
        # No common base yet: PCO's values win (the same rule as for a person).
        local = local_values(row, spec.role, ctx.roles)
        apply_local(
            ctx,
            row,
            spec.role,
            merge(None, local, existing.values, *rules_for(ctx.roles, spec.role)).to_local,
        )
        mark_linked(ctx, row, spec.role, existing.id, None)
        return
    created = create_or_reconcile(
        ctx,
        spec.resource_type,
        row,
        f"{spec.role} {spec.value(ctx, row)!r}",
        send=lambda: ctx.client.create(
            f"{PEOPLE_PATH}/{path_id(person.pco_id)}/{spec.collection}",
            spec.resource_type,
            spec.payload(ctx, row),
        ),
    )  # an unknown outcome: the next run's index shows whether it landed
    if created is None:
        return
    mark_linked(ctx, row, spec.role, created.id, parse_pco_time(created.get("updated_at")))
    ctx.report.count("created")


def _update_contact(
    ctx: SyncContext, spec: ContactSpec, person: Any, row: Any, remote: RemotePerson
) -> None:
    existing = next((c for c in spec.listed(remote) if c.id == row.pco_id), None)
    if existing is None:
        reason = f"PCO {spec.resource_type} {row.pco_id} no longer exists; pull first"
        ctx.report.issue("failed", spec.resource_type, reason, local_id=row.id, pco_id=row.pco_id)
        ctx.session.commit()
        return
    local = local_values(row, spec.role, ctx.roles)
    result = merge(row.pco_snapshot, local, existing.values, *rules_for(ctx.roles, spec.role))
    path = spec.member_path(person.pco_id, row.pco_id)
    settle_merge(
        ctx,
        row,
        spec.role,
        result,
        resource_type=spec.resource_type,
        write=lambda changes: ctx.client.update(
            path, spec.resource_type, row.pco_id, spec.changes(ctx, row, changes)
        ),
        describe=f"update {spec.role} {row.id}",
    )
