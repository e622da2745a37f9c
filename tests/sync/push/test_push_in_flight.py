"""A create on the wire when the process dies leaves a trace, so the next run cannot send it twice.

A SIGKILL can strike after the POST left and before PCO's id was stored; PCO may still be
working on the request when the next run reads its people. The trace (an ``unconfirmed``
issue committed before the POST) makes the next run hold that one record for
``PCO_UNCONFIRMED_GRACE`` instead of creating it again.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from flask_pco.extension import current_pco

from .conftest import add_person, age_unconfirmed, in_flight, records, run_push, writes

GRACE = 120  # PCO_UNCONFIRMED_GRACE's default


class Died(BaseException):
    """The process ends here, as under SIGKILL: nothing after it runs, no handler sees it."""


def die_on_create(monkeypatch: pytest.MonkeyPatch, *, after_sending: bool) -> None:
    client = current_pco().client()
    send = client.create

    def create(*args: Any, **kwargs: Any) -> Any:
        if after_sending:
            send(*args, **kwargs)  # PCO made it; its answer is never stored
        raise Died

    monkeypatch.setattr(client, "create", create)


def push_dies(monkeypatch: pytest.MonkeyPatch, *, after_sending: bool) -> None:
    with monkeypatch.context() as patch:
        die_on_create(patch, after_sending=after_sending)
        with pytest.raises(Died):
            run_push("people")
    state = current_pco()
    state.db.session.rollback()
    SyncRun = state.models.SyncRun  # what the next run does once it sees the process gone
    state.db.session.execute(update(SyncRun).values(status="failed"))
    state.db.session.commit()


def test_a_create_leaves_no_trace_once_pco_answered(db, sandbox):
    add_person(db)
    run_push("people")
    assert in_flight(db) == set()


def test_a_refused_create_leaves_no_trace(db, sandbox):
    add_person(db, first_name="")  # PCO refuses a person without a first name
    reporter = run_push("people")
    assert reporter.counts["failed"] == 1
    assert in_flight(db) == set()


def test_a_process_dead_before_pco_answered_leaves_the_person_in_flight(db, sandbox, monkeypatch):
    person = add_person(db)
    push_dies(monkeypatch, after_sending=False)
    assert in_flight(db) == {person.id}


def test_the_next_run_holds_a_create_that_may_still_land(db, sandbox, monkeypatch):
    person = add_person(db)
    push_dies(monkeypatch, after_sending=False)
    sandbox.clear_requests()

    reporter = run_push("people")

    assert writes(sandbox) == []
    assert reporter.counts["failed"] == 1
    db.session.refresh(person)
    assert person.pco_id is None


def test_after_the_grace_period_the_person_is_created_once(db, sandbox, monkeypatch):
    person = add_person(db)
    push_dies(monkeypatch, after_sending=False)
    run_push("people")
    age_unconfirmed(db, GRACE + 1)

    run_push("people")

    [created] = records(sandbox, "Person")
    assert created["remote_id"] == person.id


def test_a_create_that_landed_before_the_process_died_is_linked_not_sent_again(
    db, sandbox, monkeypatch
):
    person = add_person(db)
    push_dies(monkeypatch, after_sending=True)

    run_push("people")

    [created] = records(sandbox, "Person")
    db.session.refresh(person)
    assert person.pco_id == str(created["id"])
