"""A merge in PCO seen through webhooks: the same result whatever order the kept profile's
update, the removed profile's deletion and the merger arrive in, and whether a pull sees the
merge again afterwards."""

from __future__ import annotations

import dataclasses
from itertools import permutations

import pytest

from example_app import pco
from example_app.models import CheckIn, Person, db
from flask_pco import current_pco
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.sync.webhooks.test_apply import LOCAL_ONLY, created_locally, merger_event

EVENTS = ("kept profile updated", "removed profile destroyed", "merger created")
ORDERS = list(permutations(EVENTS))


def people() -> list[Person]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Person).order_by(Person.id)))


def merge_in_pco(church, keep: str, remove: str) -> dict[str, bytes]:
    """Merge in the sandbox; the three deliveries PCO sends for it, by name."""
    merger_id = church.sandbox.control.merge_people(keep, remove)
    return {
        "kept profile updated": church.person_event("updated", keep),
        "removed profile destroyed": church.person_event("destroyed", remove),
        "merger created": merger_event(church, merger_id, keep, remove),
    }


@pytest.mark.parametrize("order", ORDERS, ids=[" then ".join(o) for o in ORDERS])
def test_a_merge_never_duplicates_the_person_whatever_the_order(church, order):
    remove = church.add_pco_person("Naomi", "Mara")
    row_id = created_locally(church, remove).id
    keep = church.add_pco_person("Naomi", "Moab")
    events = merge_in_pco(church, keep, remove)

    for name in order:
        church.post(events[name])

    [person] = people()
    assert (person.id, person.pco_id, person.last_name, person.is_active) == (
        row_id,
        keep,
        "Moab",
        True,
    )
    assert {c: getattr(person, c) for c in LOCAL_ONLY} == LOCAL_ONLY


@pytest.mark.parametrize("order", ORDERS, ids=[" then ".join(o) for o in ORDERS])
def test_a_merge_of_two_local_people_ends_the_same_whatever_the_order(church, order):
    keep = church.add_pco_person("Naomi", "Moab")
    remove = church.add_pco_person("Naomi", "Mara")
    church.post(church.person_event("created", keep))
    survivor_id = church.local(keep).id
    merged_id = created_locally(church, remove).id
    events = merge_in_pco(church, keep, remove)

    for name in order:
        church.post(events[name])

    survivor, merged = people()
    assert (survivor.id, survivor.pco_id, survivor.is_active) == (survivor_id, keep, True)
    assert {c: getattr(survivor, c) for c in LOCAL_ONLY} == LOCAL_ONLY
    assert (merged.id, merged.is_active, merged.pco_merged_into) == (merged_id, False, survivor_id)


def test_a_merger_moves_the_check_ins_of_the_removed_profile_to_the_kept_one(church):
    keep = church.add_pco_person("Naomi", "Moab")
    remove = church.add_pco_person("Naomi", "Mara")
    church.post(church.person_event("created", keep))
    survivor_id = church.local(keep).id
    merged_id = created_locally(church, remove).id
    db.session.add(CheckIn(person_id=merged_id, security_code="A7"))
    db.session.commit()

    church.post(merge_in_pco(church, keep, remove)["merger created"])

    db.session.expire_all()
    assert [c.person_id for c in db.session.scalars(db.select(CheckIn))] == [survivor_id]


def test_a_merge_applied_by_webhook_is_left_alone_by_the_next_pull(church):
    keep = church.add_pco_person("Naomi", "Moab")
    remove = church.add_pco_person("Naomi", "Mara")
    church.post(church.person_event("created", keep))
    created_locally(church, remove)
    church.post(merge_in_pco(church, keep, remove)["merger created"])
    before = [(p.id, p.pco_id, p.is_active, p.allergies) for p in people()]

    state = current_pco()
    run = queue_run(state, "people", "pull")
    execute_run(state, run, state.client())
    db.session.refresh(run)

    assert [(p.id, p.pco_id, p.is_active, p.allergies) for p in people()] == before
    assert (run.status, run.created, run.updated) == ("succeeded", 0, 0)


def test_with_auto_merge_off_the_merger_deactivates_the_removed_and_asks_an_admin(church):
    current_pco().config = dataclasses.replace(current_pco().config, auto_merge=False)
    keep = church.add_pco_person("Naomi", "Moab")
    remove = church.add_pco_person("Naomi", "Mara")
    church.post(church.person_event("created", keep))
    survivor_id = church.local(keep).id
    merged_id = created_locally(church, remove).id

    church.post(merge_in_pco(church, keep, remove)["merger created"])

    survivor, merged = people()
    assert (survivor.is_active, survivor.allergies) == (True, None)
    assert (merged.is_active, merged.allergies, merged.pco_merged_into) == (False, "peanuts", None)
    [issue] = db.session.scalars(db.select(pco.models.SyncIssue)).all()
    assert (issue.kind, issue.local_id, issue.candidates) == ("merged", merged_id, [survivor_id])
    assert "merged in PCO" in issue.reason
