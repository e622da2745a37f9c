"""Incremental cursors: the first cursor of a resource may be made by two writers at once (a
webhook delivery reading merges while a run finishes), and neither fails for it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from flask_pco.sync import cursors
from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.cursors import advance_cursor, read_cursor
from flask_pco.sync.runs import queue_run

EARLIER, LATER = datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 10)


@pytest.fixture
def ctx(state):
    run = queue_run(state, "people", "pull")
    return SyncContext(state, state.client(), RunReporter(state, run))


def test_a_cursor_made_by_another_writer_meanwhile_is_moved_not_made_twice(ctx, monkeypatch):
    advance_cursor(ctx, "person_mergers", EARLIER)  # the other writer's
    reads, real = [], cursors._row

    def first_read_before_that_row(*args):
        reads.append(args)
        return None if len(reads) == 1 else real(*args)

    monkeypatch.setattr(cursors, "_row", first_read_before_that_row)

    advance_cursor(ctx, "person_mergers", LATER)

    monkeypatch.undo()
    Cursor = ctx.models.SyncCursor
    rows = ctx.session.scalars(select(Cursor).where(Cursor.resource == "person_mergers")).all()
    assert len(rows) == 1 and read_cursor(ctx, "person_mergers") == LATER
