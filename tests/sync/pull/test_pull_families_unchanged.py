"""An unchanged household costs a families pull no load, merge or write, like an unchanged
person (``pull/household_versions.py``); whatever a family draws on that moved still goes
through the writer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from flask_pco.models import utcnow


@pytest.fixture
def loaded(models: Any) -> Iterator[list[str]]:
    """The class name of every family or family member object loaded from the database."""
    seen: list[str] = []

    def note(target: Any, _context: Any) -> None:
        seen.append(type(target).__name__)

    for model in (models.Family, models.FamilyMember):
        event.listen(model, "load", note)
    yield seen
    for model in (models.Family, models.FamilyMember):
        event.remove(model, "load", note)


@pytest.fixture
def pulled(sandbox: Any, run_sync: Any) -> None:
    """Generated people and households (PCO's last edits days ago), pulled."""
    sandbox.reset(people=30, seed=3)
    for step in ("people", "families"):
        assert run_sync("pull", step).status == "succeeded"


def test_an_unchanged_families_pull_loads_no_family_or_member(pulled, run_sync, models, loaded):
    models.db.session.expunge_all()
    loaded.clear()

    again = run_sync("pull", "families")

    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0)
    assert again.skipped == 0 and loaded == []


def test_a_link_missing_here_is_made_again_though_the_household_did_not_change(
    pulled, run_sync, models
):
    link = models.db.session.scalars(select(models.FamilyMember)).first()
    family_id, person_id = link.family_id, link.person_id
    models.db.session.delete(link)
    models.db.session.commit()

    again = run_sync("pull", "families")

    assert again.updated == 1
    assert models.db.session.scalar(
        select(models.FamilyMember).where(
            models.FamilyMember.family_id == family_id, models.FamilyMember.person_id == person_id
        )
    )


def test_a_family_whose_member_changed_since_it_was_applied_goes_through_the_writer(
    pulled, run_sync, models
):
    adult = models.db.session.scalars(
        select(models.FamilyMember).where(models.FamilyMember.relationship == "adult")
    ).first()
    link_id = adult.id
    adult.relationship = "child"  # out of step with the person's child flag
    adult.person.pco_synced_at = utcnow()  # as a pull that changed the person leaves it
    models.db.session.commit()

    run_sync("pull", "families")

    models.db.session.expire_all()
    assert models.db.session.get(models.FamilyMember, link_id).relationship == "adult"
