"""A dry run is the real run without writes: on the same data, the dry run and the real run
that follows count exactly the same, for every pull and push, and the dry run changes nothing
here or in PCO."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.sync.conftest import sandbox_person

COUNTS = ("created", "updated", "removed", "skipped", "held", "failed")
STEPS = [
    ("pull", "people"),
    ("pull", "families"),
    ("pull", "groups"),
    ("pull", "full"),
    ("push", "people"),
    ("push", "families"),
    ("push", "group-memberships"),
    ("push", "full"),
]


def _records(sandbox: Any, table: str) -> list[dict[str, Any]]:
    return list(sandbox.state()["records"].get(table, []))


@pytest.fixture
def messy(sandbox, run_sync, models) -> None:
    """Both sides after a first full pull, then changed the way a church's data changes."""
    sandbox.reset(people=24, seed=5)
    run_sync("pull", "full")
    people = [p for p in _records(sandbox, "Person") if p.get("status") != "inactive"]
    for person in people[:3]:  # renames in PCO
        sandbox.edit_person(person["id"], last_name=f"{person['last_name']}-Renamed")
    # Gone from PCO: each one look missed already, so the next run removes them.
    sandbox.delete_person(people[3]["id"])
    household_member = _records(sandbox, "HouseholdMembership")[0]
    sandbox.delete("household_memberships", household_member["id"])
    group_member = _records(sandbox, "Membership")[0]
    sandbox.delete("group_memberships", group_member["id"])
    for sync_type in ("people", "families", "groups"):
        run_sync("pull", sync_type)
    sandbox_person(sandbox, "Brand", "New", emails=["brand.new@example.org"])
    household = _records(sandbox, "Household")[-1]
    sandbox.edit_household(household["id"], name="Renamed Household")
    _conflict(sandbox, models, people[4])
    _local_changes(sandbox, models, people[5])


def _conflict(sandbox: Any, models: Any, person: dict[str, Any]) -> None:
    row = models.db.session.scalar(
        select(models.Person).where(models.Person.pco_id == person["id"])
    )
    row.first_name = "LocalName"
    models.db.session.commit()
    sandbox.edit_person(person["id"], first_name="PcoName")


def _local_changes(sandbox: Any, models: Any, person: dict[str, Any]) -> None:
    session = models.db.session
    dob = date(1979, 6, 1)
    sandbox_person(sandbox, "Twin", "Held", birthdate=dob)  # two local Twins: held both ways
    for _ in range(2):
        session.add(models.Person(first_name="Twin", last_name="Held", dob=dob))
    in_pco = sandbox_person(sandbox, "Known", "Already", birthdate=date(1985, 2, 2))
    known = models.Person(first_name="Known", last_name="Already", dob=date(1985, 2, 2))
    newcomer = models.Person(first_name="Nia", last_name="Newcomer")
    session.add_all([known, newcomer])
    session.flush()
    session.add(models.PersonEmail(person_id=newcomer.id, email="nia@example.org"))
    family = models.Family(name="Newcomer Household", street="4 New St", city="Salem")
    session.add(family)
    session.flush()
    for member in (newcomer, known):
        session.add(models.FamilyMember(family_id=family.id, person_id=member.id))
    group = session.scalar(select(models.ChurchGroup).where(models.ChurchGroup.kind == "group"))
    session.add(models.GroupMembership(group_id=group.id, person_id=newcomer.id, is_leader=True))
    linked = session.scalar(select(models.Person).where(models.Person.pco_id == person["id"]))
    linked.last_name = "EditedHere"  # a local edit the push sends
    session.commit()
    assert in_pco


def _local_state(models: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every host row, and every extension table but the run log and the dry run's own plan,
    as plain tuples."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in models.db.metadata.sorted_tables:
        if table.name in ("pco_sync_log", "pco_plan"):
            continue
        rows = models.db.session.execute(select(table).order_by(*table.primary_key.columns))
        state[table.name] = [tuple(row) for row in rows]
    return state


@pytest.mark.parametrize(("direction", "sync_type"), STEPS)
def test_a_dry_run_counts_what_the_real_run_then_does(
    messy, sandbox, run_sync, models, direction, sync_type
):
    before = _local_state(models)
    sandbox.clear_requests()
    dry = run_sync(direction, sync_type, dry_run=True)
    assert dry.status == "succeeded", dry.error_message
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []
    models.db.session.expire_all()
    assert _local_state(models) == before
    real = run_sync(direction, sync_type)
    assert real.status in ("succeeded", "needs_approval"), real.error_message
    assert {c: getattr(dry, c) for c in COUNTS} == {c: getattr(real, c) for c in COUNTS}
    assert sum(getattr(real, c) for c in COUNTS) > 0  # the scenario gives each run work
