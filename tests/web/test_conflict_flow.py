"""A conflict from a real pull, settled on the admin page, reaches PCO on the next push."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer

from .conftest import ADMIN_URL, post


def pco_last_name(sandbox: SandboxServer, pco_id: str) -> str:
    people = sandbox.control.state()["records"]["Person"]
    return next(p["last_name"] for p in people if p["id"] == pco_id)


def conflicted_person(sandbox: SandboxServer):  # type: ignore[no-untyped-def]
    """Pull, change the last name on both sides, pull again: PCO's name wins, a conflict is kept."""
    from example_app.models import Person, db

    start_sync("pull", "people", mode="inline")
    person = db.session.scalars(select(Person).order_by(Person.id)).first()
    person.last_name = "Local-Name"
    db.session.commit()
    sandbox.control.edit_person(person.pco_id, last_name="Pco-Name")
    start_sync("pull", "people", mode="inline")
    db.session.refresh(person)
    return person


def test_using_the_local_value_sends_it_to_pco_on_the_next_push(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    person = conflicted_person(sandbox)
    Conflict = current_pco().models.Conflict
    [conflict] = current_pco().db.session.scalars(select(Conflict)).all()
    assert (person.last_name, conflict.local_value) == ("Pco-Name", "Local-Name")

    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "local"})
    start_sync("push", "people", mode="inline")

    assert pco_last_name(sandbox, person.pco_id) == "Local-Name"


def test_keeping_pcos_value_pushes_nothing_back(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    person = conflicted_person(sandbox)
    conflict = current_pco().db.session.scalars(select(current_pco().models.Conflict)).one()
    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "pco"})
    start_sync("push", "people", mode="inline")
    assert pco_last_name(sandbox, person.pco_id) == "Pco-Name"
