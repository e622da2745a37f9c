"""A site registers only the roles it has: full runs, the buttons and the nightly cover those.

The lean site registers person, email and phone only (no families, groups, events or
locations), as a church that keeps only its people would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco import ConfigError, current_pco
from flask_pco.jobs.queue import nightly_sync_job, set_schedule, start_sync
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.lean_site import PEOPLE_ONLY, Member, dispose, lean_app, lean_db


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    settings = sandbox_settings(sandbox_server.url, **NO_RATE_LIMIT)
    application = lean_app(database_url, PEOPLE_ONLY, **settings)
    with application.app_context():
        yield application
    dispose(application)


def finished(run_id: int) -> Any:
    """The run's row once it has ended (runs started without Redis go to a thread)."""
    SyncRun = current_pco().models.SyncRun
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lean_db.session.rollback()
        run = lean_db.session.get(SyncRun, run_id)
        if run.status not in ("queued", "running"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end")


def steps_of(run: Any) -> list[str]:
    SyncRun = current_pco().models.SyncRun
    query = select(SyncRun.sync_type).where(SyncRun.parent_id == run.id).order_by(SyncRun.id)
    return list(lean_db.session.scalars(query))


def test_full_pull_covers_only_the_registered_roles(app: Flask, sandbox: SandboxControl) -> None:
    sandbox.add_person(first_name="Ruth", last_name="Naomi", emails=["ruth@example.org"])

    run = finished(start_sync("pull", "full", mode="inline").id)

    assert (run.status, run.created, steps_of(run)) == ("succeeded", 1, ["people"])
    assert lean_db.session.scalar(select(Member.given_name)) == "Ruth"


def test_full_push_covers_only_the_registered_roles(app: Flask, sandbox: SandboxControl) -> None:
    lean_db.session.add(Member(given_name="Boaz", surname="Ephrath"))
    lean_db.session.commit()

    run = finished(start_sync("push", "full", mode="inline").id)

    assert (run.status, run.created, steps_of(run)) == ("succeeded", 1, ["people"])


def test_the_nightly_sync_covers_only_the_registered_roles(
    app: Flask, sandbox: SandboxControl
) -> None:
    sandbox.add_person(first_name="Ruth", last_name="Naomi")
    set_schedule(True, 3)

    started = nightly_sync_job()

    run = finished(int(started.removeprefix("started run ")))
    assert (run.status, steps_of(run)) == ("succeeded", ["people"])


def test_a_step_of_an_unregistered_role_is_refused_naming_what_to_register(app: Flask) -> None:
    with pytest.raises(ConfigError) as refused:
        start_sync("pull", "groups", mode="inline")
    assert str(refused.value) == (
        "pull groups needs models this site has not registered: "
        "pco.register_models(group=YourModel, group_membership=YourModel)"
    )


def test_the_admin_page_offers_only_the_registered_roles(app: Flask) -> None:
    html = app.test_client().get("/admin/pco-sync/").get_data(as_text=True)

    for offered in ("pull:people", "pull:full", "pull:recent", "push:people", "push:full"):
        assert f'value="{offered}"' in html
    for hidden in ("pull:families", "pull:groups", "push:families", "push:group-memberships"):
        assert f'value="{hidden}"' not in html
    assert '<option value="list">' in html
    assert '<option value="group">' not in html


def test_an_unknown_sync_lists_only_the_ones_this_site_can_run(app: Flask) -> None:
    with pytest.raises(ConfigError) as refused:
        start_sync("pull", "members", mode="inline")
    assert str(refused.value) == "unknown pull sync 'members'; valid: people, full"
