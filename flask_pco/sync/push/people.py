"""Pushing one local person to PCO: link or create the Person, then its emails and phones.

Before creating anyone the pusher reads every PCO person once (``remote_index``) and asks
``push_matching`` which of them this person already is, exactly as a pull would decide it
(``remote_id``, then email with the first name, then name and birth date). One answer links
(and gives the PCO person our ``remote_id``), a doubt holds the person for an admin, and only
no answer at all creates a PCO person, with ``remote_id`` = our id.

The families and group-membership steps call the same ``PersonPusher.push`` for members that
are not in PCO yet, so there is one way a person reaches PCO.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Resource
from flask_pco.field_rules import is_empty
from flask_pco.mapping.payloads import person_attributes
from flask_pco.models import utcnow
from flask_pco.sync.custom_fields import person_custom_fields
from flask_pco.sync.journal import record_fields
from flask_pco.sync.policy import Merge, local_values, merge
from flask_pco.sync.push.contacts import CONTACTS, push_contacts
from flask_pco.sync.push.field_data import push_field_values
from flask_pco.sync.push.index_carry import carried_index, carry_index
from flask_pco.sync.push.matching import Hold, PushMatcher
from flask_pco.sync.push.records import (
    REFUSED,
    apply_local,
    changed_locally,
    create_or_reconcile,
    mark_linked,
    record_rejected,
    settle_merge,
)
from flask_pco.sync.push.remote_index import (
    PEOPLE_PATH,
    PeopleIndex,
    RemotePerson,
    find_people_by_remote_id,
    index_includes,
    load_people_index,
    written_person,
)

if TYPE_CHECKING:
    from flask_pco.mapping.custom_fields import FieldDefinition
    from flask_pco.sync.context import SyncContext

__all__ = ["PersonPusher"]

_ROLE = "person"


class PersonPusher:
    """Links or creates local people in PCO; reads PCO's people once, on first need."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self._index: PeopleIndex | None = None
        #: Custom fields PCO refused in the write being settled.
        self._refused: set[str] = set()
        self._wanted: list[str] | None = None

    @cached_property
    def _people(self) -> list[Any]:
        """(id, pco_id) of every local person, read when the first unlinked one is matched:
        a push of linked people only never holds the whole table."""
        Person = self.ctx.roles.model(_ROLE)
        return list(self.ctx.session.execute(select(Person.id, Person.pco_id)).all())

    @cached_property
    def claimed(self) -> dict[str, int]:
        """PCO id → the local person already linked to it."""
        return {row.pco_id: row.id for row in self._people if row.pco_id}

    @cached_property
    def matcher(self) -> PushMatcher:
        return PushMatcher(self.ctx, {row.id for row in self._people}, self.claimed)

    @property
    def index(self) -> PeopleIndex:
        if self._index is None:
            self._index = self._read_index()
        return self._index

    def _read_index(self) -> PeopleIndex:
        """PCO's people: carried from the run's last slice and brought up to date, or listed
        (``index_carry``); a complete listing is carried to the next slice."""
        addresses = self.ctx.roles.has("person_address")
        client, slicer = self.ctx.client, self.ctx.report.slicer
        if slicer is None or self._wanted is not None:  # one job, or linked people only
            return load_people_index(client, self._wanted, self.custom_fields, addresses=addresses)  # fmt: skip
        includes = index_includes(self.custom_fields, addresses)
        overlap = self.ctx.config.incremental_overlap
        found = carried_index(slicer, client, includes, overlap, self.custom_fields)
        if found is None:
            read_at = utcnow()
            found = load_people_index(client, None, self.custom_fields, addresses=addresses), read_at  # fmt: skip
        carry_index(slicer, found[0], found[1], includes)
        return found[0]

    @cached_property
    def custom_fields(self) -> dict[str, FieldDefinition]:
        """The host's custom fields of people, resolved against PCO's definitions."""
        return person_custom_fields(self.ctx)

    def expect(self, pco_ids: list[str | None]) -> None:
        """Say up front who will be pushed (their PCO ids): if all are linked (nobody to
        match), the index may fetch just them instead of listing everyone."""
        if all(pco_id is not None for pco_id in pco_ids):
            self._wanted = [pco_id for pco_id in pco_ids if pco_id is not None]

    @cached_property
    def contacts_pending(self) -> set[int]:
        """Local people with a contact (email, phone, address) PCO lacks, or one edited here
        since the last sync."""
        return {pid for spec in CONTACTS for pid in spec.pending_owners(self.ctx)}

    def needs_push(self, person: Any) -> bool:
        """Unlinked, changed locally since the last sync, or with contacts to push."""
        return (
            person.pco_id is None
            or person.id in self.contacts_pending
            or changed_locally(person, _ROLE, self.ctx)
        )

    def push(self, person: Any) -> str | None:
        """Bring one person (and contacts) into PCO; its PCO id, or None if held or refused."""
        if person.pco_id is None:
            remote = self._link_or_create(person)
        else:
            remote = self._update_linked(person)
        if remote is not None:
            push_contacts(self.ctx, person, remote)
        return person.pco_id if remote is not None else None

    # -- unlinked people --------------------------------------------------------------------

    def _link_or_create(self, person: Any) -> RemotePerson | None:
        found = self.matcher.match(person, self.index)
        if isinstance(found, Hold):
            self._hold(person, found)
            return None
        remote = self._create(person) if found is None else self._link(person, found)
        if remote is not None:
            self.matcher.settled(person)
        return remote

    def _hold(self, person: Any, hold: Hold) -> None:
        """Create nothing for ``person``: an admin decides (a pull's hold is listed already)."""
        if hold.pulled:
            self.ctx.report.count("held")
            return
        reason = f"{_local_name(self.ctx, person)}: {hold.reason}"
        self.ctx.report.issue(
            "ambiguous", "Person", reason, local_id=person.id, candidates=hold.candidates
        )
        self.ctx.session.commit()

    def _link(self, person: Any, remote: RemotePerson) -> RemotePerson | None:
        """Adopt an existing PCO person: PCO's values win (the row has no common base yet)."""
        adopted = self._write_remote_id(person, remote) if remote.remote_id is None else remote
        if adopted is None:
            return None
        local = local_values(person, _ROLE, self.ctx.roles)
        theirs = self._local_form(adopted.values)
        apply_local(self.ctx, person, _ROLE, self._merge(None, local, theirs).to_local)
        self._linked(person, adopted.id, adopted)
        self.ctx.report.count("updated")
        return adopted

    def _write_remote_id(self, person: Any, remote: RemotePerson) -> RemotePerson | None:
        try:
            updated = self.ctx.client.update(
                f"{PEOPLE_PATH}/{path_id(remote.id)}",
                "Person",
                remote.id,
                {"remote_id": int(person.id)},
            )
        except REFUSED as error:
            record_rejected(self.ctx, "Person", person, error)
            return None
        change = {"remote_id": (None, int(person.id))}
        record_fields(self.ctx, _ROLE, person, change, side="pco")  # with the link's commit
        return self._remember(updated, remote)

    def _create(self, person: Any) -> RemotePerson | None:
        local = local_values(person, _ROLE, self.ctx.roles)
        sent = {k: v for k, v in local.items() if self.ctx.roles.rule(_ROLE, k).pushes}
        attributes = person_attributes(self._pco_form(sent), remote_id=person.id)
        remote = create_or_reconcile(
            self.ctx,
            "Person",
            person,
            "this person",
            send=lambda: self._remember(self.ctx.client.create(PEOPLE_PATH, "Person", attributes)),
            find=lambda: self._landed(person),
        )
        return self._adopt_created(person, remote) if remote is not None else None

    def _landed(self, person: Any) -> RemotePerson | None:
        """The PCO person our lost POST made, if PCO shows exactly one. The listing by
        ``remote_id`` is consistent, search is not; not found is no proof (PCO may still be
        processing it), so the row waits for a later run rather than a second POST now."""
        landed = find_people_by_remote_id(self.ctx.client, person.id)
        return landed[0] if len(landed) == 1 else None

    def _adopt_created(self, person: Any, remote: RemotePerson) -> RemotePerson:
        self.ctx.people_created.add(remote.id)
        self._linked(person, remote.id, remote)
        self.ctx.report.count("created")
        self._custom_after_create(person, remote)
        return remote

    def _custom_after_create(self, person: Any, remote: RemotePerson) -> None:
        """Send a new PCO person's custom values; one PCO refuses stays unagreed (empty in
        the snapshot), so the next push tries it again."""
        roles = self.ctx.roles
        local = local_values(person, _ROLE, roles)
        values = {
            name: local.get(name)
            for name in self.custom_fields
            if roles.rule(_ROLE, name).pushes and not is_empty(local.get(name))
        }
        refused, _ = push_field_values(self.ctx, person, remote, values, self.custom_fields)
        if refused:
            person.pco_snapshot = {**(person.pco_snapshot or {}), **dict.fromkeys(refused)}
        self.ctx.session.commit()

    # -- linked people ----------------------------------------------------------------------

    def _update_linked(self, person: Any) -> RemotePerson | None:
        remote = self.index.get(person.pco_id)
        if remote is None:
            reason = f"PCO person {person.pco_id} no longer exists (deleted or merged); pull first"
            self.ctx.report.issue(
                "failed", "Person", reason, local_id=person.id, pco_id=person.pco_id
            )
            self.ctx.session.commit()
            return None
        if not changed_locally(person, _ROLE, self.ctx):
            return remote
        local = local_values(person, _ROLE, self.ctx.roles)
        result = self._merge(person.pco_snapshot, local, self._local_form(remote.values))
        settled = settle_merge(
            self.ctx,
            person,
            _ROLE,
            result,
            resource_type="Person",
            write=lambda changes: self._patch(person, remote, changes),
            describe=f"update PCO person {remote.id}",
            snapshot=lambda row: self._agreed(row, remote),
        )
        if not settled:
            return None  # PCO refused the PATCH: the contacts wait for the next run too
        return self.index.get(remote.id) or remote

    def _patch(self, person: Any, remote: RemotePerson, changes: dict[str, Any]) -> Resource:
        """Send the changed custom values (as FieldData), then the changed Person attributes."""
        custom = {k: v for k, v in changes.items() if k in self.custom_fields}
        self._refused, _ = push_field_values(self.ctx, person, remote, custom, self.custom_fields)
        attributes = person_attributes(self._pco_form(changes))
        if not attributes:  # only custom fields changed: the Person itself is not written
            return Resource(type="Person", id=remote.id)
        updated = self.ctx.client.update(
            f"{PEOPLE_PATH}/{path_id(remote.id)}", "Person", remote.id, attributes
        )
        self._remember(updated, remote)
        return updated

    def _agreed(self, row: Any, remote: RemotePerson) -> dict[str, Any]:
        """The new agreement: the row's values, but PCO's for custom values PCO refused."""
        refused, self._refused = self._refused, set()
        agreed = local_values(row, _ROLE, self.ctx.roles)
        return {**agreed, **{name: remote.values.get(name) for name in refused}}

    # -- the primary campus: a local campus id here, PCO's campus id there -------------------

    @cached_property
    def _campuses(self) -> dict[str, int]:
        """PCO campus id → local campus id, read once per push (campuses are few)."""
        if not (self.ctx.roles.present(_ROLE, "primary_campus") and self.ctx.roles.has("campus")):
            return {}
        Campus = self.ctx.roles.model("campus")
        query = select(Campus.pco_id, Campus.id).where(Campus.pco_id.is_not(None))
        return {pco_id: row_id for pco_id, row_id in self.ctx.session.execute(query)}

    def _local_form(self, values: dict[str, Any]) -> dict[str, Any]:
        """PCO's person values with its campus id as the local one (None if not pulled)."""
        if values.get("primary_campus") is None:
            return values
        return {**values, "primary_campus": self._campuses.get(values["primary_campus"])}

    def _pco_form(self, values: dict[str, Any]) -> dict[str, Any]:
        """Local values to send, the campus as PCO's id; a campus PCO does not have is not sent."""
        if values.get("primary_campus") is None:
            return values
        by_local = {row_id: pco_id for pco_id, row_id in self._campuses.items()}
        pco_id = by_local.get(values["primary_campus"])
        if pco_id is None:
            return {k: v for k, v in values.items() if k != "primary_campus"}
        return {**values, "primary_campus": pco_id}

    # -- bookkeeping ------------------------------------------------------------------------

    def _merge(self, base: Any, local: dict[str, Any], pco: dict[str, Any]) -> Merge:
        roles = self.ctx.roles
        return merge(base, local, pco, roles.synced(_ROLE), roles.rules_of(_ROLE))

    def _linked(self, person: Any, pco_id: str, remote: RemotePerson) -> None:
        self.claimed[pco_id] = person.id
        mark_linked(self.ctx, person, _ROLE, pco_id, remote.updated_at)

    def _remember(self, resource: Resource, previous: RemotePerson | None = None) -> RemotePerson:
        """PCO's answer to a write, kept in the index with the contacts we already knew."""
        fresh = written_person(resource, previous)
        self.index.add(fresh)
        return fresh


def _local_name(ctx: SyncContext, person: Any) -> str:
    first, last = (
        getattr(person, ctx.roles.column(_ROLE, f), "") for f in ("first_name", "last_name")
    )
    return f"{first or ''} {last or ''}".strip() or f"local person {person.id}"
