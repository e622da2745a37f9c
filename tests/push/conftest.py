"""Push tests: the example app on SQLite and PostgreSQL, talking HTTP to a live sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxControl, SandboxServer
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings

from .runner import run_push

__all__ = ["add_person", "records", "run_push", "writes"]

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxControl]:
    """The sandbox emptied, its request log cleared and its faults off."""
    control = sandbox_server.control
    control.reset(people=0)
    control.set_faults()
    control.clear_requests()
    yield control
    control.set_faults()


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    """The example app (each database) pointed at the sandbox, inside an app context."""
    application = make_app(database_url, **sandbox_settings(sandbox_server.url, **NO_RATE_LIMIT))
    with application.app_context():
        yield application
        current_pco().cache.clear()


def writes(control: SandboxControl) -> list[dict[str, Any]]:
    return [r for r in control.requests() if r["method"] in WRITES]


def records(control: SandboxControl, table: str) -> list[dict[str, Any]]:
    return list(control.state()["records"].get(table, []))


def add_person(
    db: Any,
    first_name: str = "Dana",
    last_name: str = "Newcomer",
    *,
    emails: tuple[str, ...] = (),
    phones: tuple[tuple[str, str | None], ...] = (),
    **fields: Any,
) -> Any:
    """A local person with emails and (number, kind) phones, committed."""
    from example_app.models import Person, PersonEmail, PersonPhone

    fields.setdefault("dob", date(1990, 5, 17))
    person = Person(first_name=first_name, last_name=last_name, **fields)
    db.session.add(person)
    db.session.flush()
    for n, address in enumerate(emails):
        db.session.add(PersonEmail(person_id=person.id, email=address, is_primary=n == 0))
    for n, (number, kind) in enumerate(phones):
        db.session.add(PersonPhone(person_id=person.id, phone=number, kind=kind, is_primary=n == 0))
    db.session.commit()
    return person
