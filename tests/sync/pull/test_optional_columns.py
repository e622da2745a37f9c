"""A site with its own column names and none of the optional columns syncs both ways.

The lean site (``tests/lean_site.py``) has no gender, child or active flag, no primary flag or
phone kind, no family address and no relationship on its household links: pulls fill what it
has and leave the rest alone, pushes send what it has and never blank what it lacks in PCO.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from flask_pco import current_pco
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.lean_site import (
    Household,
    HouseholdMember,
    Member,
    MemberEmail,
    MemberPhone,
    dispose,
    lean_app,
    lean_db,
)

ADDRESS = {"street_line_1": "1 Chapel Row", "city": "Bath", "state": "SO", "zip": "BA1 1AA"}


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    settings = sandbox_settings(sandbox_server.url, PCO_PER_PAGE=10, **NO_RATE_LIMIT)
    application = lean_app(database_url, **settings)
    with application.app_context():
        yield application
    dispose(application)


def run(direction: str, sync_type: str) -> Any:
    """Run one sync to its end and return its finished row."""
    state = current_pco()
    row = queue_run(state, sync_type, direction)
    execute_run(state, row, state.client())
    lean_db.session.refresh(row)
    assert row.status == "succeeded", row.error_message
    return row


def count(model: Any) -> int:
    return int(lean_db.session.scalar(select(func.count()).select_from(model)))


def a_family_in_pco(sandbox: SandboxControl) -> tuple[str, str]:
    parent = sandbox.add_person(
        first_name="Ruth",
        last_name="Naomi",
        gender="F",
        birthdate="1980-02-03",
        emails=["ruth@example.org"],
        phone_numbers=["+15550102345"],
        addresses=[ADDRESS],
    )
    child = sandbox.add_person(first_name="Obed", last_name="Naomi", child=True)
    return parent, sandbox.add_household([parent, child], "Naomi", primary_contact=parent)


def test_pull_fills_a_site_without_optional_columns(app: Flask, sandbox: SandboxControl) -> None:
    parent, household = a_family_in_pco(sandbox)

    people = run("pull", "people")
    families = run("pull", "families")

    member = lean_db.session.scalar(select(Member).where(Member.pco_id == parent))
    assert (member.given_name, member.surname, member.birth_date) == (
        "Ruth",
        "Naomi",
        date(1980, 2, 3),
    )
    assert [e.address for e in lean_db.session.scalars(select(MemberEmail))] == ["ruth@example.org"]
    assert [p.number for p in lean_db.session.scalars(select(MemberPhone))] == ["+15550102345"]
    family = lean_db.session.scalar(select(Household))
    assert (family.label, family.pco_id, count(HouseholdMember)) == ("Naomi", household, 2)
    assert (people.created, families.created) == (2, 1)
    assert not {"child", "gender", "is_active", "street"} & set(
        member.pco_snapshot | family.pco_snapshot
    )


def test_a_second_pull_finds_nothing_to_change(app: Flask, sandbox: SandboxControl) -> None:
    a_family_in_pco(sandbox)
    run("pull", "people")
    run("pull", "families")

    again = [run("pull", "people"), run("pull", "families")]

    assert [(r.created, r.updated, r.failed) for r in again] == [(0, 0, 0), (0, 0, 0)]


def test_people_pushed_from_a_site_without_optional_columns_come_back_unchanged(
    app: Flask, sandbox: SandboxControl
) -> None:
    member = Member(given_name="Boaz", surname="Ephrath", birth_date=date(1975, 5, 6))
    lean_db.session.add(member)
    lean_db.session.flush()
    lean_db.session.add(MemberEmail(member_id=member.id, address="boaz@example.org"))
    lean_db.session.add(MemberPhone(member_id=member.id, number="+15550107777"))
    lean_db.session.commit()

    pushed = run("push", "people")
    again = run("push", "people")
    run("pull", "people")
    pulled = run("pull", "people")

    person = next(p for p in sandbox.state()["records"]["Person"] if p["id"] == member.pco_id)
    assert (person["first_name"], person["last_name"], person["birthdate"]) == (
        "Boaz",
        "Ephrath",
        "1975-05-06",
    )
    assert (pushed.created, again.created, again.updated) == (3, 0, 0)
    assert (pulled.created, pulled.updated) == (0, 0)


def test_push_never_sends_an_address_for_a_family_without_address_columns(
    app: Flask, sandbox: SandboxControl
) -> None:
    a_family_in_pco(sandbox)
    run("pull", "people")
    run("pull", "families")
    lean_db.session.scalar(select(Household)).label = "Naomi-Mahlon"
    lean_db.session.commit()
    sandbox.clear_requests()

    run("push", "families")

    writes = [r for r in sandbox.requests() if r["method"] != "GET"]
    assert all("/addresses" not in r["path"] for r in writes), writes
    addresses = sandbox.state()["records"]["Address"]
    assert [a["street_line_1"] for a in addresses] == ["1 Chapel Row"]
