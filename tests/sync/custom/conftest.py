"""Fixtures for custom fields and sync rules: the fields site against the sandbox, both DBs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.sandbox.testing import SandboxServer
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.fields_site import Parishioner, dispose, fields_app, fields_db
from tests.helpers import NO_RATE_LIMIT, sandbox_settings


@pytest.fixture
def site(database_url: str, sandbox_server: SandboxServer) -> Iterator[Callable[..., Flask]]:
    """``site(custom=..., rules=...)``: the fields site, in an app context, against the sandbox."""
    made: list[Flask] = []

    def make(**options: Any) -> Flask:
        settings = sandbox_settings(sandbox_server.url, PCO_PER_PAGE=10, **NO_RATE_LIMIT)
        app = fields_app(database_url, **options, **settings)
        made.append(app)
        app.app_context().push()
        return app

    yield make
    for app in made:
        fields_db.session.remove()
        dispose(app)


def run(direction: str, sync_type: str = "people", **options: Any) -> Any:
    """Run one sync to its end; its finished row (a failure is left for the test to read)."""
    state = current_pco()
    row = queue_run(state, sync_type, direction, options=options)
    try:
        execute_run(state, row, state.client())
    except Exception:
        fields_db.session.rollback()
    fields_db.session.refresh(row)
    return row


def parishioner(pco_id: str) -> Parishioner:
    fields_db.session.expire_all()
    found = fields_db.session.scalar(select(Parishioner).where(Parishioner.pco_id == pco_id))
    assert found is not None
    return found


def issues(run_row: Any) -> list[str]:
    Issue = current_pco().models.SyncIssue
    rows = fields_db.session.scalars(select(Issue).where(Issue.run_id == run_row.id))
    return [row.reason for row in rows]
