"""An unchanged record costs a pull no load, merge or write: only what PCO changed since it
was applied goes through the writer, and every other rule still sees the unchanged ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from flask_pco import current_pco
from flask_pco.sync.rows import NOT_WRITTEN

PEOPLE_TABLES = ("people", "person_emails", "person_phones")


@pytest.fixture
def statements(models: Any) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs from now on, lowercased."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.lower().split()))

    engine = models.db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def writes_to_people(statements: list[str]) -> list[str]:
    verbs = ("update", "insert into", "delete from")
    return [
        s
        for s in statements
        for table in PEOPLE_TABLES
        if any(
            s.startswith(f"{verb} {table} ") or s.startswith(f'{verb} "{table}"') for verb in verbs
        )
    ]


def person(models: Any, pco_id: str) -> Any:
    models.db.session.expire_all()
    return models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))


def test_an_unchanged_full_pull_writes_nothing_to_the_people_tables(
    sandbox, run_sync, models, statements
):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    statements.clear()

    again = run_sync("pull", "people")

    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0), again.error_message
    assert writes_to_people(statements) == []


def test_an_unchanged_full_pull_loads_no_person_or_contact_row(
    sandbox, run_sync, models, statements
):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    statements.clear()

    run_sync("pull", "people")

    loads = [s for s in statements if s.startswith("select") and "people.first_name" in s]
    loads += [s for s in statements if s.startswith("select") and "person_emails.email" in s]
    assert loads == []


def test_an_unchanged_full_pull_maps_no_person(sandbox, run_sync, models, monkeypatch):
    from flask_pco.sync.pull import people

    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    mapped: list[str] = []
    real = people.person_from_resource
    monkeypatch.setattr(
        people, "person_from_resource", lambda r, *a, **k: mapped.append(r.id) or real(r, *a, **k)
    )
    pco_id = sandbox.state()["records"]["Person"][4]["id"]
    sandbox.edit_person(pco_id, first_name="Renamed")

    again = run_sync("pull", "people")

    assert (again.status, again.updated) == ("succeeded", 1), again.error_message
    assert mapped == [pco_id]  # its phones and custom values parsed; the 29 others' not


def test_a_person_changed_in_pco_is_still_applied(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    pco_id = sandbox.state()["records"]["Person"][4]["id"]
    sandbox.edit_person(pco_id, first_name="Edited")

    again = run_sync("pull", "people")

    assert (again.status, again.updated) == ("succeeded", 1)
    assert person(models, pco_id).first_name == "Edited"


def test_an_email_changed_in_pco_is_still_applied(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    email = sandbox.state()["records"]["Email"][0]
    sandbox.edit_email(email["id"], address="changed@example.org")

    again = run_sync("pull", "people")

    assert again.updated == 1
    stored = models.db.session.scalar(
        select(models.PersonEmail.email).where(models.PersonEmail.pco_id == email["id"])
    )
    assert stored == "changed@example.org"


def test_unchanged_people_are_not_taken_for_gone_by_a_full_pull(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    inactive = {
        p.pco_id for p in models.db.session.scalars(select(models.Person)) if not p.is_active
    }
    gone = next(p["id"] for p in sandbox.state()["records"]["Person"] if p["id"] not in inactive)
    sandbox.delete_person(gone)

    run_sync("pull", "people")
    run_sync("pull", "people")  # a second complete look confirms the miss

    models.db.session.expire_all()
    people = models.db.session.scalars(select(models.Person)).all()
    assert {p.pco_id for p in people if not p.is_active} == inactive | {gone}
    assert {p.pco_misses for p in people if p.pco_id != gone} == {0}


def test_a_person_an_earlier_run_could_not_write_goes_through_the_writer_again(
    sandbox, run_sync, models
):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "people")
    left, other = (p["id"] for p in sandbox.state()["records"]["Person"][:2])
    state = current_pco()
    state.db.session.add(
        state.models.SyncIssue(
            kind="invalid", resource_type="Person", pco_id=left, reason=f"{NOT_WRITTEN}too long"
        )
    )
    settled = {}  # as if the first pull had run an hour after PCO's last edit
    for row in models.db.session.scalars(select(models.Person)):
        row.pco_synced_at = settled[row.pco_id] = row.pco_updated_at + timedelta(hours=1)
    models.db.session.commit()

    run_sync("pull", "people")

    assert person(models, left).pco_synced_at != settled[left]  # the writer noted it agrees
    assert person(models, other).pco_synced_at == settled[other]  # skipped: not even touched
