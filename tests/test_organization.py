"""Every credential resolves to its PCO organisation, and that names run slots, cursors and job
ids: two churches holding OAuth tokens on one Redis (and here one database) never share them.

Until 4 Dec 2026 every OAuth token reported the organisation key ``oauth``: two churches
shared one run slot, one set of cursors and one job id per sync, and blocked each other."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco.exceptions import ConfigError, OrganizationUnknownError, SyncInProgressError
from flask_pco.jobs.queue import webhook_job_id, webhook_queue
from flask_pco.jobs.webhooks import dispatch_deliveries
from flask_pco.models import utcnow
from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.sync.runs import queue_run
from tests.conftest import make_app
from tests.jobs.conftest import NOWHERE


@pytest.fixture
def churches() -> Iterator[dict[str, SandboxServer]]:
    """Two PCO organisations, each with its own OAuth token."""
    apps = {
        "tok-grace": create_sandbox_app(bearer_tokens=("tok-grace",), organization_id="300001"),
        "tok-hope": create_sandbox_app(bearer_tokens=("tok-hope",), organization_id="300002"),
    }
    with SandboxServer(apps["tok-grace"]) as grace, SandboxServer(apps["tok-hope"]) as hope:
        yield {"tok-grace": grace, "tok-hope": hope}


def church_app(database_url: str, redis_url: str, server: SandboxServer, token: str) -> Flask:
    return make_app(
        database_url,
        PCO_APP_ID="",
        PCO_SECRET="",
        PCO_ACCESS_TOKEN=token,
        PCO_API_URL=server.url,
        PCO_REDIS_URL=redis_url,
    )


def test_two_oauth_churches_get_their_own_keys_slots_and_job_ids(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    seen: dict[str, Any] = {}
    for token, server in churches.items():
        app = church_app(database_url, redis_url, server, token)
        with app.app_context():
            state = app.extensions["pco"]
            run = queue_run(state, "people", "pull")  # both take a slot at once
            seen[token] = (
                state.organization_key(),
                run.organization,
                webhook_job_id(state, 7),
                state.client().limiter.key,
            )

    grace, hope = seen["tok-grace"], seen["tok-hope"]
    assert grace[:2] == ("org-300001", "org-300001")
    assert hope[:2] == ("org-300002", "org-300002")
    assert grace[2] != hope[2]
    assert grace[3] != hope[3] and grace[3] != "oauth"


def test_the_organisation_is_asked_once_and_kept_for_every_process(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    server = churches["tok-grace"]
    app = church_app(database_url, redis_url, server, "tok-grace")
    with app.app_context():
        state = app.extensions["pco"]
        assert state.organization_key() == "org-300001"
        server.control.clear_requests()
        state.cache.clear()  # another process, or a restart: nothing in memory

        assert state.organization_key() == "org-300001"

    assert server.control.requests() == []


def test_an_unknown_organisation_is_one_line_not_a_shared_key(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    app = church_app(database_url, redis_url, churches["tok-grace"], "tok-revoked")

    with app.app_context(), pytest.raises(ConfigError, match="cannot tell which PCO organisation"):
        app.extensions["pco"].organization_key()


def test_a_personal_access_token_keeps_its_app_id_as_the_key(app: Flask) -> None:
    assert app.extensions["pco"].organization_key() == "test-app-id"


def test_without_credentials_the_page_and_the_cli_still_work(database_url: str) -> None:
    app = make_app(database_url, PCO_APP_ID="", PCO_SECRET="")

    with app.app_context():
        assert app.extensions["pco"].organization_key() == "unconfigured"


def old_oauth_rows(state: Any) -> tuple[Any, Any, Any]:
    """What a site on OAuth stored before its organisation was asked for: all under 'oauth'."""
    SyncRun, SyncCursor = state.models.SyncRun, state.models.SyncCursor
    done = SyncRun(organization="oauth", sync_type="people", direction="pull", status="succeeded")
    running = SyncRun(organization="oauth", sync_type="full", direction="pull", status="running")
    cursor = SyncCursor(organization="oauth", resource="people", synced_from=utcnow())
    state.db.session.add_all([done, running, cursor])
    state.db.session.commit()
    return done, running, cursor


def test_runs_and_cursors_stored_under_oauth_carry_over_to_the_organisation(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    app = church_app(database_url, redis_url, churches["tok-grace"], "tok-grace")
    with app.app_context():
        state = app.extensions["pco"]
        rows = old_oauth_rows(state)

        assert state.organization_key() == "org-300001"

        state.db.session.expire_all()
        assert {row.organization for row in rows} == {"org-300001"}


def test_a_run_active_under_oauth_keeps_the_slot_after_the_upgrade(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    app = church_app(database_url, redis_url, churches["tok-grace"], "tok-grace")
    with app.app_context():
        state = app.extensions["pco"]
        _done, running, _cursor = old_oauth_rows(state)

        with pytest.raises(SyncInProgressError, match=rf"pull full \(run {running.id}, running\)"):
            queue_run(state, "people", "pull")


def test_a_cursor_the_organisation_already_has_wins_over_the_old_one(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    app = church_app(database_url, redis_url, churches["tok-grace"], "tok-grace")
    with app.app_context():
        state = app.extensions["pco"]
        SyncCursor = state.models.SyncCursor
        newer = SyncCursor(organization="org-300001", resource="people", synced_from=utcnow())
        state.db.session.add(newer)
        state.db.session.commit()
        old_oauth_rows(state)  # an old-version worker wrote during a rolling upgrade

        state.organization_key()

        cursors = state.db.session.scalars(select(SyncCursor)).all()
        assert [(c.organization, c.id) for c in cursors] == [("org-300001", newer.id)]


@pytest.mark.usefixtures("instant_retries")
def test_an_unreachable_pco_starts_nothing_and_a_worker_may_try_again(
    tmp_path: Path, redis_url: str
) -> None:
    # One database is enough: nothing reaches it.
    app = make_app(
        f"sqlite:///{tmp_path / 'site.db'}",
        PCO_APP_ID="",
        PCO_SECRET="",
        PCO_ACCESS_TOKEN="tok-offline",
        PCO_API_URL=NOWHERE,
        PCO_REDIS_URL=redis_url,
    )
    with app.app_context():
        state = app.extensions["pco"]
        with pytest.raises(
            OrganizationUnknownError, match="people/v2 failed: ConnectionError"
        ) as raised:
            queue_run(state, "people", "pull")
        assert raised.value.retriable
        assert "tok-offline" not in str(raised.value)
        assert state.db.session.scalars(select(state.models.SyncRun)).all() == []


def test_a_refused_token_is_not_retried_and_not_asked_again_at_once(
    database_url: str, redis_url: str, churches: dict[str, SandboxServer]
) -> None:
    server = churches["tok-grace"]
    app = church_app(database_url, redis_url, server, "tok-revoked")
    with app.app_context():
        state = app.extensions["pco"]
        with pytest.raises(OrganizationUnknownError, match="HTTP 401") as first:
            state.organization_key()
        server.control.clear_requests()
        with pytest.raises(OrganizationUnknownError, match="HTTP 401"):
            state.organization_key()  # the admin page's next poll
    assert not first.value.retriable
    assert server.control.requests() == []


def test_a_webhook_delivery_waits_stored_while_the_organisation_is_unknown(
    database_url: str,
    redis_url: str,
    churches: dict[str, SandboxServer],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Alembic's fileConfig (tests/test_migrations.py) disables the loggers that existed then.
    monkeypatch.setattr(logging.getLogger("flask_pco.jobs.webhooks"), "disabled", False)
    app = church_app(database_url, redis_url, churches["tok-grace"], "tok-revoked")
    with app.app_context():
        dispatch_deliveries(app.extensions["pco"], (7,))  # PCO is answered 200: the row is kept
        assert len(webhook_queue()) == 0
    assert "delivery 7 waits: cannot tell which PCO organisation" in caplog.text
