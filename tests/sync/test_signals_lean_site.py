"""The signals on a host whose tables and columns have other names (tests/lean_site.py): the
changes are named by flask-pco's logical fields, the ids are the host's, and a receiver may
write and commit rows of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco import current_pco, family_changed, person_pulled
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.lean_site import Badge, Household, Member, dispose, lean_app, lean_db


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    settings = sandbox_settings(sandbox_server.url, **NO_RATE_LIMIT)
    application = lean_app(database_url, **settings)
    with application.app_context():
        yield application
    dispose(application)


def pull(sync_type: str) -> Any:
    state = current_pco()
    run = queue_run(state, sync_type, "pull")
    execute_run(state, run, state.client())
    lean_db.session.refresh(run)
    return run


def give_a_badge(sender: Flask, *, created: bool, local_id: int, **change: Any) -> None:
    """The site's own reaction to a new member: a badge row, committed by the receiver."""
    if created:
        lean_db.session.add(Badge(member_id=local_id, code=f"M{local_id}"))
        lean_db.session.commit()


def test_a_receiver_writes_its_own_rows_for_each_new_member(app, sandbox: SandboxControl, hear):
    sandbox.reset(people=12, seed=3)
    person_pulled.connect(give_a_badge)
    try:
        run = pull("full")
    finally:
        person_pulled.disconnect(give_a_badge)
    members = set(lean_db.session.scalars(select(Member.id)))
    assert run.status == "succeeded"
    assert len(members) == 12
    assert set(lean_db.session.scalars(select(Badge.member_id))) == members


def test_the_changes_are_named_by_flask_pco_s_fields(app, sandbox: SandboxControl, hear):
    pco_id = sandbox.add_person(first_name="Ruth", last_name="Naomi")
    pull("people")
    sandbox.edit_person(pco_id, last_name="Boaz")
    pulled = hear(person_pulled)
    pull("people")
    member = lean_db.session.scalar(select(Member).where(Member.pco_id == pco_id))
    [call] = pulled.calls
    assert (call["local_id"], call["changes"]) == (member.id, {"last_name": ("Naomi", "Boaz")})


def test_family_changed_names_the_host_s_household_rows(app, sandbox: SandboxControl, hear):
    sandbox.reset(people=12, seed=3)
    pull("people")
    changed = hear(family_changed)
    pull("families")
    households = set(lean_db.session.scalars(select(Household.id)))
    heard = [c["local_id"] for c in changed.calls if c["record_type"] == "family"]
    assert households
    assert sorted(heard) == sorted(households)
