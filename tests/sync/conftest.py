"""Pull tests run against a live sandbox over HTTP, on SQLite and PostgreSQL.

One sandbox server serves the whole session; each test resets its data. The example app is
pointed at it with the sandbox's credentials, small pages (so 30 people are several pages) and
no rate limit on either side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from blinker import Signal
from flask import Flask
from sqlalchemy import func, select

from flask_pco import current_pco
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings

PER_PAGE = 10


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxControl:
    """The sandbox's control surface, with empty data, no faults and an empty request log."""
    control = sandbox_server.control
    control.reset(people=0, seed=1)
    control.set_faults()
    control.clear_requests()
    return control


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    application = make_app(
        database_url,
        **sandbox_settings(sandbox_server.url, PCO_PER_PAGE=PER_PAGE, **NO_RATE_LIMIT),
    )
    with application.app_context():
        yield application


@pytest.fixture
def state(app: Flask) -> Any:
    return current_pco()


@pytest.fixture
def run_sync(state: Any) -> Callable[..., Any]:
    """``run_sync("pull", "people", incremental=True, list_ids=[...])`` → the finished run row.

    A run that fails or is cancelled re-raises in ``execute_run``; its row says how it ended.
    """

    def run(
        direction: str,
        sync_type: str,
        *,
        incremental: bool = False,
        dry_run: bool = False,
        **options: Any,
    ) -> Any:
        row = queue_run(
            state, sync_type, direction, incremental=incremental, dry_run=dry_run, options=options
        )
        try:
            execute_run(state, row, state.client())
        except Exception:  # the row records how it ended; the tests read it
            state.db.session.rollback()
        state.db.session.refresh(row)
        return row

    return run


@pytest.fixture
def models(app: Flask) -> Any:
    from example_app import models

    return models


@pytest.fixture
def local_person(models: Any) -> Callable[..., Any]:
    """Factory for a local person row, with optional emails (committed)."""

    def make(
        first: str = "Local", last: str = "Person", *, emails: tuple[str, ...] = (), **fields: Any
    ) -> Any:
        person = models.Person(first_name=first, last_name=last, **fields)
        models.db.session.add(person)
        models.db.session.flush()
        for n, address in enumerate(emails):
            models.db.session.add(
                models.PersonEmail(person_id=person.id, email=address, is_primary=n == 0)
            )
        models.db.session.commit()
        return person

    return make


@pytest.fixture
def count(models: Any) -> Callable[[Any], int]:
    def rows(model: Any, *conditions: Any) -> int:
        return int(
            models.db.session.scalar(select(func.count()).select_from(model).where(*conditions))
        )

    return rows


def sandbox_person(sandbox: SandboxControl, first: str, last: str, **attributes: Any) -> str:
    """Add a PCO person to the sandbox; ``birthdate`` may be a ``date``."""
    if isinstance(attributes.get("birthdate"), date):
        attributes["birthdate"] = attributes["birthdate"].isoformat()
    return sandbox.add_person(first_name=first, last_name=last, **attributes)


class Heard:
    """What one signal's receiver heard, and whether the change was committed by then."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: Any, **payload: Any) -> None:
        self.calls.append({"sender": sender, **payload})
        if payload.get("record_type") == "person" and payload.get("local_id") is not None:
            # Read through another connection: only a committed row is visible there.
            from example_app.models import Person, db

            with db.engine.connect() as other:
                table = Person.__table__
                seen = other.execute(select(table.c.id).where(table.c.id == payload["local_id"]))
                self.calls[-1]["committed"] = seen.first() is not None

    def by_pco_id(self) -> dict[str, dict[str, Any]]:
        return {call["pco_id"]: call for call in self.calls}


@pytest.fixture
def hear() -> Iterator[Callable[[Signal], Heard]]:
    """``hear(person_pulled)`` → a ``Heard`` connected to the signal until the test ends."""
    connected: list[tuple[Signal, Heard]] = []

    def connect(signal: Signal) -> Heard:
        heard = Heard()
        signal.connect(heard)
        connected.append((signal, heard))
        return heard

    yield connect
    for signal, heard in connected:
        signal.disconnect(heard)
