"""An undo reverts its entries a page at a time: the rows a page names read in one query per
role, its deletes made in one statement per table. Exact whatever the page size, and the
statements it sends do not grow with the number of people."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

import flask_pco.sync.undo as undo_package
from flask_pco import current_pco
from tests.sync.undo.conftest import tables


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 7 entries: every test crosses many page boundaries."""
    monkeypatch.setattr(undo_package, "_BATCH", 7)


@pytest.fixture
def statements(db: Any) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield sent
    event.remove(db.engine, "before_cursor_execute", count)


def test_undo_of_a_first_pull_in_small_pages_deletes_every_row_it_made(
    sandbox, run_sync, db, undo, small_pages
):
    sandbox.reset(people=30, seed=5)
    before = tables(db)
    run = run_sync("pull", "people")
    undone = undo(run.id)
    assert undone.status == "succeeded", undone.error_message
    assert tables(db) == before


def test_undo_of_a_pull_s_updates_in_small_pages_puts_every_value_back(
    sandbox, run_sync, db, models, undo, small_pages
):
    sandbox.reset(people=30, seed=5)
    run_sync("pull", "people")
    before = tables(db)
    for pco_id in sorted(db.session.scalars(select(models.Person.pco_id)))[:20]:
        sandbox.edit_person(pco_id, last_name=f"Changed{pco_id}")
    run = run_sync("pull", "people")
    assert run.updated == 20
    undone = undo(run.id)
    assert undone.status == "succeeded", undone.error_message
    assert tables(db) == before


def test_the_undo_of_a_pull_sends_statements_per_page_not_per_person(
    sandbox, run_sync, undo, statements
):
    sandbox.reset(people=120, seed=5)
    run = run_sync("pull", "people")
    statements.clear()
    undone = undo(run.id)
    assert undone.created == 0 and undone.removed >= 120
    assert len(statements) < 60, len(statements)  # before pages: ~16 a person


def test_the_undo_reads_the_run_s_journal_a_page_at_a_time(
    sandbox, run_sync, db, undo, statements, small_pages
):
    """Memory stays flat in the run's size: no statement reads the whole journal of the run."""
    sandbox.reset(people=30, seed=5)
    run = run_sync("pull", "people")
    Entry = current_pco().models.JournalEntry
    total = db.session.scalar(select(func.count()).where(Entry.run_id == run.id))
    statements.clear()
    assert undo(run.id).status == "succeeded"
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and _reads_journal(s)]
    pages = [s for s in reads if "LIMIT" in s.upper()]
    assert total >= 30 and len(pages) == math.ceil((total + 1) / 7)  # the last one short
    assert all("LIMIT" in s.upper() or "count(" in s or "action" in s for s in reads), reads


def _reads_journal(statement: str) -> bool:
    return "pco_journal" in statement.split("WHERE")[0]
