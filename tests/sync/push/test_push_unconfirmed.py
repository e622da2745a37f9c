"""A create PCO never confirmed is not sent again while it may still land (no duplicate)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask_pco.extension import current_pco
from flask_pco.models import utcnow
from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.push.records import UNCONFIRMED, held_create, record_unconfirmed

from .conftest import add_person, records, run_push, writes

GRACE = 120  # PCO_UNCONFIRMED_GRACE's default


def unconfirmed_create(db: Any, person: Any, seconds_ago: float) -> None:
    """What a push leaves when its POST timed out and PCO did not list the person yet."""
    issue = current_pco().models.SyncIssue(
        kind=UNCONFIRMED,
        resource_type="Person",
        local_id=person.id,
        reason="PCO did not confirm the Person write (timed out)",
        created_at=utcnow() - timedelta(seconds=seconds_ago),
    )
    db.session.add(issue)
    db.session.commit()


def test_a_recent_unconfirmed_create_is_held_not_sent_again(db, sandbox):
    person = add_person(db)
    unconfirmed_create(db, person, seconds_ago=5)
    reporter = run_push("people")
    assert writes(sandbox) == []
    assert reporter.counts["failed"] == 1
    db.session.refresh(person)
    assert person.pco_id is None


def test_the_held_person_is_reported_with_when_the_push_will_create_it(db, sandbox):
    person = add_person(db)
    unconfirmed_create(db, person, seconds_ago=5)
    run_push("people")
    Issue = current_pco().models.SyncIssue
    held = db.session.query(Issue).filter_by(kind="held", local_id=person.id).one()
    assert "may still land" in held.reason and "creates it from" in held.reason


def test_holding_does_not_extend_the_grace_period(db, sandbox):
    person = add_person(db)
    unconfirmed_create(db, person, seconds_ago=GRACE - 1)
    run_push("people")
    Issue = current_pco().models.SyncIssue
    db.session.query(Issue).filter_by(kind=UNCONFIRMED).update(
        {"created_at": utcnow() - timedelta(seconds=GRACE + 1)}
    )
    db.session.commit()
    run_push("people")
    assert len(records(sandbox, "Person")) == 1


def test_after_the_grace_period_the_person_is_created_once(db, sandbox):
    person = add_person(db)
    unconfirmed_create(db, person, seconds_ago=GRACE + 1)
    run_push("people")
    [created] = records(sandbox, "Person")
    assert created["remote_id"] == person.id


def test_an_unconfirmed_create_that_landed_meanwhile_is_linked_not_held(db, sandbox):
    person = add_person(db)
    pco_id = sandbox.add_person(first_name="Dana", last_name="Newcomer", remote_id=person.id)
    unconfirmed_create(db, person, seconds_ago=5)
    run_push("people")
    db.session.refresh(person)
    assert person.pco_id == str(pco_id)
    assert len(records(sandbox, "Person")) == 1


def test_a_create_left_unconfirmed_earlier_in_a_run_is_held_later_in_it(db, sandbox):
    """A person in two families is pushed twice in one run: the second try must wait too."""
    person = add_person(db)
    state = current_pco()
    run = SimpleNamespace(id=None, parent_id=None)
    ctx = SyncContext(state, state.client(), RunReporter(state, run))
    assert not held_create(ctx, "Person", person, "this person")  # the run reads the list here
    record_unconfirmed(ctx, "Person", person, TimeoutError("timed out"))
    assert held_create(ctx, "Person", person, "this person")
