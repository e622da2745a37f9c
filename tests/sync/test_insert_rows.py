"""``insert_rows`` writes through the driver's executemany: the rows it stores must be the ones
SQLAlchemy's own INSERT stores (bind processing, Python-side defaults), on both databases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.rows import insert_rows
from flask_pco.sync.runs import queue_run

SNAPSHOT = {"first_name": "Ann", "dob": "1980-02-03", "nested": {"a": [1, None, "é"]}}


@pytest.fixture
def ctx(state: Any) -> SyncContext:
    run = queue_run(state, "people", "pull")
    return SyncContext(state, state.client(), RunReporter(state, run))


def person_values(pco_id: str) -> dict[str, Any]:
    return {
        "first_name": "Ann",
        "last_name": f"O'Neil \x7f {pco_id}",
        "dob": date(1980, 2, 3),
        "pco_id": pco_id,
        "pco_updated_at": datetime(2026, 1, 2, 3, 4, 5, 678000),
        "pco_synced_at": datetime(2026, 1, 2, 3, 9, 5),
        "pco_snapshot": SNAPSHOT,
    }


def stored(models: Any, pco_id: str) -> dict[str, Any]:
    models.db.session.expire_all()
    row = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))
    skip = {"id", "pco_id", "last_name", "created_at"}
    return {
        c.key: getattr(row, c.key) for c in models.Person.__table__.columns if c.key not in skip
    }


def test_inserted_rows_equal_what_sqlalchemys_insert_stores(ctx, models):
    insert_rows(ctx, models.Person, [person_values("1"), person_values("2")])
    models.db.session.execute(insert(models.Person), [person_values("3")])
    models.db.session.commit()

    assert stored(models, "1") == stored(models, "2") == stored(models, "3")
    assert stored(models, "1")["pco_snapshot"] == SNAPSHOT
    assert stored(models, "1")["pco_misses"] == 0  # the column's Python-side default


def test_python_side_callable_defaults_are_applied(ctx, models):
    insert_rows(ctx, models.Person, [person_values("1")])
    models.db.session.commit()

    row = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == "1"))
    assert isinstance(row.created_at, datetime)  # default=utcnow, called per row


def test_rows_of_one_table_go_in_one_executemany(ctx, models):
    seen: list[bool] = []

    def note(_c: Any, _cursor: Any, statement: str, _p: Any, _ctx: Any, many: bool) -> None:
        if statement.lower().startswith("insert into people"):
            seen.append(many)

    engine = models.db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        insert_rows(ctx, models.Person, [person_values(str(n)) for n in range(5)])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert seen == [True]
