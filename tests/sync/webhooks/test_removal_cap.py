"""A storm of deletions in PCO cannot bypass the removal cap: past it, deliveries wait for an
admin like a large run does."""

from __future__ import annotations

from sqlalchemy import func, select

from example_app import pco
from example_app.models import Person, db
from flask_pco.extension import current_pco
from flask_pco.sync.approvals import approve_run, refuse_run, waiting_runs
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.sync.webhooks.conftest import deliveries

PEOPLE = 40


def pulled(church) -> list[str]:
    church.sandbox.control.reset(people=PEOPLE, seed=7)
    state = current_pco()
    execute_run(state, queue_run(state, "people", "pull"), state.client())
    rows = select(Person.pco_id).where(Person.is_active.is_(True))
    return sorted(db.session.scalars(rows))


def active() -> int:
    db.session.expire_all()
    query = select(func.count()).select_from(Person).where(Person.is_active.is_(True))
    return int(db.session.scalar(query))


def storm(church, pco_ids) -> None:
    for pco_id in pco_ids:
        church.sandbox.control.delete_person(pco_id)
        church.post(church.person_event("destroyed", pco_id))


def test_deletions_past_the_cap_are_held_not_applied(church):
    people = pulled(church)
    storm(church, people[:30])
    statuses = [d.status for d in deliveries(db)]
    assert statuses.count("applied") == 25 and statuses.count("held") == 5
    assert active() == len(people) - 25
    [waiting] = waiting_runs(current_pco())
    assert (waiting.run.direction, waiting.count) == ("webhook", 5)


def test_approving_applies_the_held_deliveries(church):
    people = pulled(church)
    storm(church, people[:30])
    [waiting] = waiting_runs(current_pco())
    approve_run(current_pco(), waiting.run.id)
    assert active() == len(people) - 30
    assert {d.status for d in deliveries(db)} == {"applied"}


def test_refusing_leaves_the_held_people_active(church):
    people = pulled(church)
    storm(church, people[:30])
    [waiting] = waiting_runs(current_pco())
    refuse_run(current_pco(), waiting.run.id)
    assert active() == len(people) - 25
    assert [d.status for d in deliveries(db)].count("ignored") == 5
    refused = select(pco.models.Removal).where(pco.models.Removal.status == "refused")
    assert len(db.session.scalars(refused).all()) == 5
