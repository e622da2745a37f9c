"""Push tests: the example app on SQLite and PostgreSQL, talking HTTP to a live sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxControl, SandboxServer
from tests.conftest import make_app
from tests.helpers import NO_RATE_LIMIT, sandbox_settings

from .runner import run_push

__all__ = [
    "add_family",
    "add_membership",
    "add_person",
    "age_unconfirmed",
    "in_flight",
    "lost_answers",
    "records",
    "run_push",
    "writes",
]

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
def push_config() -> dict[str, Any]:
    """Extra PCO_* settings for the app; a test parametrizes this fixture to change them."""
    return {}


@pytest.fixture
def app(
    database_url: str, sandbox_server: SandboxServer, push_config: dict[str, Any]
) -> Iterator[Flask]:
    """The example app (each database) pointed at the sandbox, inside an app context."""
    settings = sandbox_settings(sandbox_server.url, **NO_RATE_LIMIT, **push_config)
    application = make_app(database_url, **settings)
    with application.app_context():
        yield application
        current_pco().cache.clear()


def writes(control: SandboxControl) -> list[dict[str, Any]]:
    return [r for r in control.requests() if r["method"] in WRITES]


def lost_answers(control: SandboxControl) -> list[tuple[str, str]]:
    """(method, path) of the writes PCO carried out but whose answer the sandbox lost."""
    return [(r["method"], r["path"]) for r in writes(control) if "lost_status" in r]


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


def add_family(db: Any, name: str, *members: tuple[Any, str], **fields: Any) -> Any:
    """A local family of (person, relationship) pairs, committed."""
    from example_app.models import Family, FamilyMember

    family = Family(name=name, **fields)
    db.session.add(family)
    db.session.flush()
    for person, relationship in members:
        db.session.add(
            FamilyMember(family_id=family.id, person_id=person.id, relationship=relationship)
        )
    db.session.commit()
    return family


@pytest.fixture
def pco_group(sandbox: SandboxControl) -> str:
    """A PCO group (the sandbox's generator makes groups alongside people)."""
    sandbox.reset(people=2, seed=1)
    sandbox.clear_requests()
    return str(records(sandbox, "Group")[0]["id"])


def add_membership(db: Any, group_pco_id: str, person: Any, *, is_leader: bool = False) -> Any:
    """A local membership of the local group linked to ``group_pco_id`` (made if missing)."""
    from example_app.models import ChurchGroup, GroupMembership

    group = db.session.scalar(select(ChurchGroup).where(ChurchGroup.pco_id == group_pco_id))
    if group is None:
        group = ChurchGroup(name="Tuesday Study", kind="group", pco_id=group_pco_id)
        db.session.add(group)
        db.session.flush()
    membership = GroupMembership(group_id=group.id, person_id=person.id, is_leader=is_leader)
    db.session.add(membership)
    db.session.commit()
    return membership


def in_flight(db: Any, resource_type: str = "Person") -> set[int]:
    """Local ids whose create a killed process left unconfirmed (sent, answer never stored)."""
    Issue = current_pco().models.SyncIssue
    rows = db.session.scalars(
        select(Issue.local_id).where(
            Issue.kind == "unconfirmed",
            Issue.resource_type == resource_type,
            Issue.resolved_at.is_(None),
        )
    )
    return set(rows)


def age_unconfirmed(db: Any, seconds: float) -> None:
    """Move every unconfirmed create ``seconds`` into the past: the grace period went by."""
    from datetime import timedelta

    from sqlalchemy import update

    Issue = current_pco().models.SyncIssue
    db.session.execute(
        update(Issue)
        .where(Issue.kind == "unconfirmed")
        .values(created_at=Issue.created_at - timedelta(seconds=seconds))
    )
    db.session.commit()
