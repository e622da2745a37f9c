"""Two churches on one site and one Redis keep their budgets, job ids, runs, cursors,
settings and people apart."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from flask_pco.jobs.queue import start_sync, webhook_job_id
from flask_pco.jobs.schedule import get_schedule, set_schedule
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization
from tests.churches_site import Member, churches_db

from .conftest import GRACE, HOPE, ORGANIZATIONS


def pull_people(church: str) -> None:
    with use_organization(church):
        start_sync("pull", "people", mode="inline", trigger="cli")


def test_each_church_has_its_own_key_budget_and_job_ids(site: Flask) -> None:
    seen = {}
    for church in (GRACE, HOPE):
        with use_organization(church):
            state = current_pco()
            seen[church] = (state.organization_key(), state.client().limiter.key,
                            webhook_job_id(state, 7))  # fmt: skip
    assert seen[GRACE][0] == "church-1" and seen[HOPE][0] == "church-2"
    assert seen[GRACE][1] != seen[HOPE][1]
    assert seen[GRACE][2] != seen[HOPE][2]


def test_each_church_reads_its_own_pco_organisation(site: Flask) -> None:
    for church, organization in ORGANIZATIONS.items():
        with use_organization(church):
            assert current_pco().client().get("/people/v2").data[0].id == organization


def test_a_pull_writes_only_its_own_church_s_people(site: Flask) -> None:
    pull_people(GRACE)
    pull_people(HOPE)

    rows = churches_db.session.execute(select(Member.church_id, Member.pco_id)).all()
    grace = {pco_id for church, pco_id in rows if church == 1}
    hope = {pco_id for church, pco_id in rows if church == 2}
    assert len(grace) == 4 and len(hope) == 4
    assert len(rows) == 8


def test_a_second_pull_of_one_church_leaves_the_other_s_people_alone(site: Flask) -> None:
    pull_people(GRACE)
    pull_people(HOPE)
    hope_before = churches_db.session.scalars(
        select(Member.pco_synced_at).where(Member.church_id == 2)
    ).all()

    pull_people(GRACE)

    churches_db.session.expire_all()
    hope_after = churches_db.session.scalars(
        select(Member.pco_synced_at).where(Member.church_id == 2)
    ).all()
    assert hope_after == hope_before


def test_runs_and_cursors_belong_to_their_church(site: Flask) -> None:
    pull_people(GRACE)
    pull_people(HOPE)
    state = current_pco()
    runs = state.db.session.scalars(select(state.models.SyncRun.organization)).all()
    SyncCursor = state.models.SyncCursor
    cursors = state.db.session.execute(select(SyncCursor.organization, SyncCursor.resource)).all()
    assert sorted(runs) == ["church-1", "church-2"]
    grace = sorted(resource for key, resource in cursors if key == "church-1")
    hope = sorted(resource for key, resource in cursors if key == "church-2")
    assert grace and grace == hope
    assert len(cursors) == 2 * len(grace)


def test_each_church_sees_only_its_own_runs(site: Flask) -> None:
    pull_people(GRACE)
    pull_people(HOPE)
    for church in (GRACE, HOPE):
        with use_organization(church):
            state = current_pco()
            runs = state.db.session.scalars(select(state.models.SyncRun)).all()
            assert [run.organization for run in runs] == [f"church-{church}"]


def test_each_church_keeps_its_own_settings(site: Flask) -> None:
    with use_organization(GRACE):
        set_schedule(enabled=True, hour=3)
    with use_organization(HOPE):
        assert get_schedule().enabled is False
    with use_organization(GRACE):
        assert get_schedule().enabled is True
