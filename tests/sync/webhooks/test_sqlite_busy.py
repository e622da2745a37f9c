"""Deliveries applied on SQLite while another connection writes: they wait, they do not fail.

The site's busy timeout is cut to 50 ms here, so a second connection that holds the write lock
for a second outlasts it for real: SQLite answers "database is locked" and the apply path has
to roll back and try again. (The example site waits 30 s; see tests/test_example_app.py.)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from example_app.models import db
from flask_pco import DatabaseBusyError, current_pco
from flask_pco.sync import busy
from flask_pco.sync.webhooks.events import apply_delivery, parse_deliveries, store_deliveries
from tests.helpers import sandbox_settings
from tests.sync.webhooks.conftest import SECRET, Church, LiveApp, deliveries

#: The site's busy timeout in these tests, in seconds.
SHORT_BUSY_TIMEOUT = 0.05


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "church.sqlite"


@pytest.fixture
def church(database_file: Path, sandbox: Any) -> Iterator[Church]:
    """The example site on a SQLite file whose connections wait only 50 ms for a lock."""
    server = LiveApp(
        f"sqlite:///{database_file}",
        **sandbox_settings(sandbox.url),
        PCO_WEBHOOK_SECRET=[SECRET],
        SQLALCHEMY_ENGINE_OPTIONS={
            "poolclass": NullPool,
            "connect_args": {"timeout": SHORT_BUSY_TIMEOUT},
        },
    )
    with server.app.app_context():
        yield Church(server, sandbox)
    server.stop()


@pytest.fixture
def locked_errors(church: Church) -> Iterator[list[str]]:
    """Every "database is locked" the site's engine met while the test ran."""
    seen: list[str] = []

    def record(context: Any) -> None:
        if busy.database_is_busy(context.sqlalchemy_exception):
            seen.append(str(context.original_exception))

    event.listen(db.engine, "handle_error", record)
    yield seen
    event.remove(db.engine, "handle_error", record)


@contextmanager
def another_writer(database_file: Path, seconds: float) -> Iterator[None]:
    """A second connection holds SQLite's write lock, and lets go after ``seconds``."""
    other = sqlite3.connect(database_file, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE pco_webhook_delivery SET attempt = attempt")

    def finish() -> None:
        other.execute("COMMIT")
        other.close()

    release = threading.Timer(seconds, finish)
    release.start()
    try:
        yield
    finally:
        release.join()


def stored_update(church: Church, pco_id: str) -> int:
    """PCO's person.updated for the sandbox's record, stored as the webhook route stores it."""
    raw = church.person_event("updated", pco_id)
    [delivery_id] = store_deliveries(current_pco(), parse_deliveries(raw)).to_apply
    return delivery_id


def linked_person_renamed_in_pco(church: Church) -> str:
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.sandbox.control.edit_person(pco_id, first_name="Danielle")
    return pco_id


def test_a_delivery_applied_while_another_connection_writes_ends_applied(
    church: Church, database_file: Path, locked_errors: list[str]
) -> None:
    pco_id = linked_person_renamed_in_pco(church)
    delivery_id = stored_update(church, pco_id)

    with another_writer(database_file, seconds=1.0):
        status = apply_delivery(current_pco(), delivery_id)

    assert locked_errors, "the other writer never got in the way: the test proves nothing"
    assert status == "applied"
    assert [d.status for d in deliveries(db)][-1] == "applied"
    assert church.local(pco_id).first_name == "Danielle"


def test_a_lock_held_past_every_retry_is_left_for_a_later_retry(
    church: Church, database_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(busy, "BUSY_PAUSES", (0.05,))
    pco_id = linked_person_renamed_in_pco(church)
    delivery_id = stored_update(church, pco_id)

    with another_writer(database_file, seconds=2.0), pytest.raises(DatabaseBusyError) as info:
        apply_delivery(current_pco(), delivery_id)

    assert info.value.retriable  # an RQ job is retried; housekeeping re-applies it inline
    assert [d.status for d in deliveries(db)][-1] == "received"
    assert church.local(pco_id).first_name == "Dana"


def test_any_other_database_error_fails_the_delivery_at_once(church: Church) -> None:
    pco_id = linked_person_renamed_in_pco(church)
    delivery_id = stored_update(church, pco_id)
    db.session.execute(db.text("DROP TABLE person_phones"))
    db.session.commit()

    status = apply_delivery(current_pco(), delivery_id)

    [*_, delivery] = deliveries(db)
    assert (status, delivery.status) == ("failed", "failed")
    assert delivery.error_message.startswith("OperationalError")
    assert "no such table: person_phones" in delivery.error_message
