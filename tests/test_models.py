"""Mixin columns and the partial unique index, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from example_app.models import Family, Person

LINKED_TABLES = ["people", "families", "church_group", "events", "locations", "person_emails"]


@pytest.mark.parametrize("table", LINKED_TABLES)
def test_linked_tables_have_the_sync_bookkeeping_columns(db, table: str) -> None:
    columns = {c["name"]: c for c in inspect(db.engine).get_columns(table)}
    assert {"pco_id", "pco_updated_at", "pco_synced_at", "pco_snapshot"} <= set(columns)
    assert columns["pco_id"]["nullable"]


@pytest.mark.parametrize("table", LINKED_TABLES)
def test_pco_id_index_is_unique_and_partial(db, table: str) -> None:
    index = next(
        i for i in inspect(db.engine).get_indexes(table) if i["name"] == f"uq_{table}_pco_id"
    )
    assert index["unique"]
    assert index["column_names"] == ["pco_id"]


def test_unlinked_people_have_their_own_index(db) -> None:
    index = next(
        i for i in inspect(db.engine).get_indexes("people") if i["name"] == "ix_people_unlinked"
    )
    assert index["column_names"] == ["id"]


def test_many_rows_may_be_unlinked(db) -> None:
    db.session.add_all(
        [Person(first_name="A", last_name="One"), Person(first_name="B", last_name="Two")]
    )
    db.session.commit()
    assert db.session.query(Person).filter(Person.pco_id.is_(None)).count() == 2


def test_two_rows_cannot_share_a_pco_id(db) -> None:
    db.session.add_all([Family(name="Smith", pco_id="77"), Family(name="Smyth", pco_id="77")])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_snapshot_round_trips_as_json(db) -> None:
    person = Person(first_name="Zoë", last_name="Nguyễn", pco_snapshot={"dob": "2001-02-03"})
    db.session.add(person)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person.id).pco_snapshot == {"dob": "2001-02-03"}


def test_only_one_top_level_run_may_be_active(app, db) -> None:
    from flask_pco import SyncInProgressError, current_pco
    from flask_pco.sync.runs import queue_run

    state = current_pco()
    first = queue_run(state, "people", "pull")
    with pytest.raises(SyncInProgressError, match=f"run {first.id}"):
        queue_run(state, "families", "push")
