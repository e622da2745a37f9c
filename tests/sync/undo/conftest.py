"""Undo tests: runs on SQLite and PostgreSQL against the sandbox, then their undo, compared
table by table with the state before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco import current_pco
from flask_pco.jobs.undo import start_undo
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.sync.conftest import PER_PAGE

#: The host's tables and the extension's conflicts: what an undo must put back as it was.
TABLES = (
    "people",
    "person_emails",
    "person_phones",
    "person_addresses",
    "families",
    "family_members",
    "church_group",
    "group_membership",
    "checkins",
    "pco_conflict",
)
#: When a row last agreed with PCO, and how many looks in a row missed it, are the sync's
#: bookkeeping (never journaled), no part of what the row holds.
_WHEN_SYNCED = ("pco_synced_at", "pco_updated_at", "pco_misses")


def tables(db: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``TABLES`` by id, a removal's time reduced to whether there is one."""
    db.session.expire_all()
    found = {}
    metadata = current_pco().roles.model("person").metadata
    for name in TABLES:
        table = metadata.tables[name]
        rows = db.session.execute(select(table).order_by(table.c.id)).mappings()
        found[name] = [_comparable(dict(row)) for row in rows]
    return found


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    for name in _WHEN_SYNCED:
        row.pop(name, None)
    if isinstance(row.get("pco_removed_at"), datetime):
        row["pco_removed_at"] = "set"
    row.pop("detected_at", None)
    return row


@pytest.fixture
def undo_config() -> dict[str, Any]:
    """Extra PCO_* settings for the app; a test parametrizes this fixture to change them."""
    return {}


@pytest.fixture
def app(database_url: str, sandbox_server: Any, undo_config: dict[str, Any]) -> Iterator[Flask]:
    """The sync tests' app, with the test's ``undo_config`` (a newer pinned API version)."""
    settings = sandbox_settings(
        sandbox_server.url, PCO_PER_PAGE=PER_PAGE, **NO_RATE_LIMIT, **undo_config
    )
    application = make_app(database_url, **settings)
    with application.app_context():
        yield application


@pytest.fixture
def undo(state: Any) -> Callable[..., Any]:
    """``undo(run_id, delete_created=False)`` → the finished undo run's row."""

    def run(run_id: int | None = None, **options: Any) -> Any:
        row = start_undo(run_id=run_id, trigger="cli", mode="inline", **options)
        state.db.session.expire_all()
        return state.db.session.get(state.models.SyncRun, row.id)

    return run


def journal(run_id: int) -> list[Any]:
    Entry = current_pco().models.JournalEntry
    query = select(Entry).where(Entry.run_id == run_id).order_by(Entry.id)
    return list(current_pco().db.session.scalars(query))


#: PCO's record types a people push writes.
PCO_TABLES = ("Person", "Email", "PhoneNumber")


def pco_state(sandbox: Any, names: tuple[str, ...] = PCO_TABLES) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's records of these types, less when each was last touched."""
    records = sandbox.state()["records"]
    return {
        name: sorted(
            ({k: v for k, v in r.items() if k != "updated_at"} for r in records.get(name, [])),
            key=lambda r: str(r["id"]),
        )
        for name in names
    }


#: PCO's record types the undo tests of addresses, households and memberships compare.
RECORDS = ("Person", "Address", "Household", "HouseholdMembership", "Membership")


def pushed(run_sync: Any, db: Any, sandbox: Any, push: str) -> tuple[Any, Any]:
    """Push ``push`` after the test's local edit; (state before, the push run)."""
    before = (tables(db), pco_state(sandbox, RECORDS))
    run = run_sync("push", push)
    assert run.status == "succeeded", run.error_message
    assert pco_state(sandbox, RECORDS) != before[1]
    return before, run


def reads(sandbox: Any) -> list[str]:
    """The paths the sandbox was asked to read, in order, without their query strings."""
    return [r["path"].split("?")[0] for r in sandbox.requests() if r["method"] == "GET"]


def writes(sandbox: Any) -> list[str]:
    """The methods of the writes the sandbox was sent, in order."""
    return [r["method"] for r in sandbox.requests() if r["method"] != "GET"]


def the_conflict(db: Any) -> Any:
    """The one conflict the site holds (fails if there are none or several)."""
    Conflict = db.Model.registry._class_registry["Conflict"]
    [conflict] = db.session.scalars(select(Conflict))
    return conflict
