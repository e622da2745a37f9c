"""Settling a conflict with the local value is journaled as an admin's change."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxServer

from .conftest import ADMIN_URL, post
from .test_conflict_flow import conflicted_person


def admin_entries() -> list:  # type: ignore[type-arg]
    Entry = current_pco().models.JournalEntry
    query = select(Entry).where(Entry.run_id.is_(None), Entry.delivery_id.is_(None))
    return list(current_pco().db.session.scalars(query))


def test_keeping_the_local_value_journals_it_with_no_run(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    person = conflicted_person(sandbox)
    conflict = current_pco().db.session.scalars(select(current_pco().models.Conflict)).one()
    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "local"})
    [entry] = admin_entries()
    assert (entry.local_id, entry.field, entry.old_value, entry.new_value) == (
        person.id,
        "last_name",
        "Pco-Name",
        "Local-Name",
    )


def test_keeping_pcos_value_journals_nothing(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    conflicted_person(sandbox)
    conflict = current_pco().db.session.scalars(select(current_pco().models.Conflict)).one()
    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "pco"})
    assert admin_entries() == []
