"""The site's own jobs on a site of many churches: the scheduler's nightly entries, hourly
housekeeping, pushes, conflicts, and a church that has not connected."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco.exceptions import ConfigError
from flask_pco.jobs.queue import start_sync, sync_queue, webhook_housekeeping_job
from flask_pco.jobs.schedule import set_schedule
from flask_pco.jobs.workers import NightlyCronJob, NightlyScheduler
from flask_pco.sandbox import SandboxServer
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization
from tests.churches_site import Member, churches_db

from .conftest import GRACE, HOPE, HOPE_ORGANIZATION

ADMIN_URL = "/admin/pco-sync/"


def test_the_scheduler_keeps_a_nightly_entry_for_each_church_that_wants_one(site: Flask) -> None:
    with use_organization(GRACE):
        set_schedule(enabled=True, hour=3)
    scheduler = NightlyScheduler(sync_queue().connection, sync_queue().name)

    scheduler.refresh()

    grace = scheduler.nightly_job(GRACE)
    assert isinstance(grace, NightlyCronJob)
    assert grace.job_options["meta"]["pco_organization"] == GRACE
    assert scheduler.nightly_job(HOPE) is None


def test_housekeeping_runs_for_every_connected_church(site: Flask) -> None:
    said = webhook_housekeeping_job()

    assert said.startswith(f"church {GRACE}: ") and f"; church {HOPE}: " in said


def test_a_push_sends_only_its_own_church_s_new_people(
    site: Flask, two_organizations: SandboxServer
) -> None:
    # A push marks what it creates with the local id: start both churches afresh.
    two_organizations.control.reset(people=4, seed=5)
    two_organizations.control_for(HOPE_ORGANIZATION).reset(people=4, seed=6)
    name = f"Grace-{uuid.uuid4().hex[:8]}"
    churches_db.session.add(Member(church_id=1, first_name=name, last_name=name))
    churches_db.session.commit()

    with use_organization(HOPE):
        start_sync("push", "people", mode="inline", trigger="cli")
    assert name not in str(two_organizations.control_for(HOPE_ORGANIZATION).state()["records"])

    with use_organization(GRACE):
        start_sync("push", "people", mode="inline", trigger="cli")
    assert name in str(two_organizations.control.state()["records"])


def test_each_church_sees_only_its_own_conflicts(site: Flask) -> None:
    with use_organization(GRACE):
        state = current_pco()
        state.db.session.add(
            state.models.Conflict(role="person", local_id=1, field="last_name", local_value="x")
        )
        state.db.session.commit()

    with use_organization(HOPE):
        state = current_pco()
        assert state.db.session.scalars(select(state.models.Conflict)).all() == []
    with use_organization(GRACE):
        state = current_pco()
        [conflict] = state.db.session.scalars(select(state.models.Conflict)).all()
        assert conflict.organization == "church-1"


def test_a_church_that_has_not_connected_is_told_to_connect(site: Flask) -> None:
    with use_organization("3"), pytest.raises(ConfigError, match="church 3 has not connected"):
        current_pco().client()


def test_each_church_installs_its_own_webhook_subscriptions(site: Flask) -> None:
    runner = site.test_cli_runner()

    for church in (GRACE, HOPE):
        result = runner.invoke(args=["pco", "--organization", church, "webhooks", "install"])
        assert result.exit_code == 0, result.output

    state = current_pco()
    Subscription = state.models.WebhookSubscription
    rows = state.db.session.execute(select(Subscription.organization, Subscription.secret)).all()
    grace = {secret for key, secret in rows if key == "church-1"}
    hope = {secret for key, secret in rows if key == "church-2"}
    assert grace and hope and not grace & hope
