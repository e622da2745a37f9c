"""A family's address → the Address of its household's primary contact in PCO.

PCO keeps addresses on people, not households; the pull fills a family's address from its
primary contact's primary address (``pull_people.apply_family_address``), so the push writes it
back to the same place. The base of the three-way merge follows the pull's rule: a field the
snapshot never held counts PCO's value as the base when the family has one of its own (so the
family's value is pushed), and the family's empty value otherwise (so PCO's value comes in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_pco.client.ids import path_id
from flask_pco.mapping.payloads import address_attributes, new_address_attributes
from flask_pco.mapping.people import person_from_resource
from flask_pco.sync.journal import record as journal
from flask_pco.sync.policy import comparable, merge
from flask_pco.sync.push.records import REFUSED, record_rejected, settle_merge
from flask_pco.sync.push.remote_index import PEOPLE_PATH

if TYPE_CHECKING:
    from flask_pco.client import Document, Resource
    from flask_pco.sync.context import SyncContext

__all__ = ["ADDRESS_FIELDS", "FAMILY_ADDRESS", "address_pending", "push_family_address"]

ADDRESS_FIELDS = ("street", "city", "state", "zip")
#: The journal's record type of the Address a push created for a family (its fields' updates
#: are the family's own entries, with the Address's PCO id).
FAMILY_ADDRESS = "family_address"


def _local(ctx: SyncContext, family: Any) -> dict[str, Any]:
    return {
        name: comparable(getattr(family, ctx.roles.column("family", name), None))
        for name in ADDRESS_FIELDS
    }


def address_pending(ctx: SyncContext, family: Any) -> bool:
    """A linked family whose address differs from what was last agreed with PCO."""
    snapshot = family.pco_snapshot or {}
    if family.pco_id is None or not snapshot.get("primary_contact"):
        return False
    return any(
        (value or name in snapshot) and value != snapshot.get(name)
        for name, value in _local(ctx, family).items()
    )


def push_family_address(ctx: SyncContext, family: Any) -> None:
    """Create or update the contact's primary address; PCO's value wins a conflict."""
    contact = family.pco_snapshot["primary_contact"]
    try:
        document = ctx.client.get(f"{PEOPLE_PATH}/{path_id(contact)}", {"include": "addresses"})
    except REFUSED as error:
        record_rejected(ctx, "Address", family, error)
        return
    record = _primary_address(document)
    local = _local(ctx, family)
    pco = _pco_address(document) if record else dict.fromkeys(ADDRESS_FIELDS)
    rules = ctx.roles.rules_of("family")
    result = merge(_base(family, local, pco), local, pco, ADDRESS_FIELDS, rules)
    settle_merge(
        ctx,
        family,
        "family",
        result,
        resource_type="Address",
        write=lambda changes: _write(ctx, family, contact, record, changes, local),
        describe=f"{'update' if record else 'create'} the address of family {family.id}",
        outcome="updated" if record else "created",
        snapshot=lambda row: _local(ctx, row),
        track_version=False,
    )


def _base(family: Any, local: dict[str, Any], pco: dict[str, Any]) -> dict[str, Any]:
    snapshot = family.pco_snapshot or {}
    return {
        name: snapshot[name] if name in snapshot else (pco[name] if local[name] else None)
        for name in ADDRESS_FIELDS
    }


def _primary_address(document: Document) -> Resource | None:
    addresses = document.related(document.data[0], "addresses")
    return next((a for a in addresses if a.get("primary")), addresses[0] if addresses else None)


def _pco_address(document: Document) -> dict[str, Any]:
    address = person_from_resource(document.data[0], document).primary_address
    fields = address.as_family_fields() if address else dict.fromkeys(ADDRESS_FIELDS)
    return {name: comparable(value) for name, value in fields.items()}


def _write(
    ctx: SyncContext,
    family: Any,
    contact: str,
    record: Resource | None,
    changes: dict[str, Any],
    local: dict[str, Any],
) -> Resource:
    version = ctx.client.versions.get("people", "")
    if record is None:
        attributes = new_address_attributes(local, people_version=version)
        created = ctx.client.create(
            f"{PEOPLE_PATH}/{path_id(contact)}/addresses", "Address", attributes
        )
        # Journaled as the family's address (not a person address the site keeps): an undo
        # deletes it on request, and PATCHes nothing back into a record it deletes.
        journal(ctx, FAMILY_ADDRESS, "create", row=family, pco_id=str(created.id), side="pco")
        return created
    attributes = address_attributes(changes, people_version=version)
    return ctx.client.update(
        f"/people/v2/addresses/{path_id(record.id)}", "Address", record.id, attributes
    )
