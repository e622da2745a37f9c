"""Outbound sync: local people, families and group memberships → PCO.

Three steps, run alone or as ``full`` (people → families → group-memberships):

* ``people`` (``push_people``): people without a PCO id are linked to the PCO person they
  already are or created with ``remote_id`` = our id, then their emails and phones; linked
  people edited here get a PATCH of the fields only we changed (``policy.merge``).
* ``families`` (``push_families``): families become Households, members HouseholdMemberships
  (``pending: false``).
* ``group-memberships`` (``push_group_memberships``): memberships of PCO groups, with the
  leader flag as PCO's role.

Invariants every step keeps:

* never a duplicate: PCO is read (one listing) before anything is created, and a write with an
  unknown outcome is looked up before it is tried again;
* the PCO id is committed on the local row the moment PCO returns it, so a push killed at any
  point and re-run continues where it stopped;
* a 422 skips one record with PCO's reason (``pco_sync_issue``), never the run;
* a dry run reads but never writes, locally or to PCO, and counts what it would do;
* nothing to push means no request at all.

``created``/``updated`` count PCO records written (people, contacts, households, memberships).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from flask_pco.sync.engine import step
from flask_pco.sync.push.families import push_families_to_pco
from flask_pco.sync.push.groups import push_group_memberships_to_pco
from flask_pco.sync.push.people import PersonPusher
from flask_pco.sync.push.records import LOCAL_ROWS_BATCH, local_rows
from flask_pco.sync.slices import resume_after

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["PersonPusher", "push_families", "push_group_memberships", "push_people"]


@step("push", "people")
def push_people(ctx: SyncContext) -> None:
    """Link or create every unlinked local person; PATCH linked people changed locally.

    People go in id order, and the id of the last one gone through is the step's position: a
    continuation of a run in slices (``sync.slices``) starts after it.
    """
    people = PersonPusher(ctx)
    Person = ctx.roles.model("person")
    contacts_pending = people.contacts_pending  # read before the people's stream, not in it
    # Ids, not rows: a row kept here would stay in the session, and every per-record commit
    # expires every row the session holds (5,000 people: 25 million expirations). Plain
    # streamed rows, not objects, and only those the database says may need a push.
    work = {row.id: row.pco_id for row, needs in local_rows(ctx, "person") if needs}
    work.update(_pco_ids(ctx, contacts_pending - work.keys()))
    after = resume_after(ctx.options)
    if after is not None:
        work = {person_id: pco_id for person_id, pco_id in work.items() if person_id > after}
    people.expect(list(work.values()))
    ctx.report.expect(len(work))
    for person_id in sorted(work):
        person = ctx.session.get(Person, person_id)
        if person is not None:
            people.push(person)
        ctx.report.advance()
        ctx.report.checkpoint(position=person_id)


def _pco_ids(ctx: SyncContext, person_ids: set[int]) -> dict[int, str | None]:
    """The PCO id of each of these local people (those with contacts to push)."""
    Person = ctx.roles.model("person")
    found: dict[int, str | None] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), LOCAL_ROWS_BATCH):
        batch = ordered[start : start + LOCAL_ROWS_BATCH]
        query = select(Person.id, Person.pco_id).where(Person.id.in_(batch))
        found.update((row.id, row.pco_id) for row in ctx.session.execute(query))
    return found


@step("push", "families")
def push_families(ctx: SyncContext) -> None:
    """Create or complete the PCO household of each local family."""
    push_families_to_pco(ctx)


@step("push", "group-memberships")
def push_group_memberships(ctx: SyncContext) -> None:
    """Create, link or re-role the PCO membership of each local membership of a PCO group."""
    push_group_memberships_to_pco(ctx)
