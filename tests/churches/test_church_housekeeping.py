"""The hourly webhook housekeeping on a site whose churches connected Planning Center only
through OAuth (no site-wide PCO_APP_ID/PCO_SECRET): each church's subscriptions are checked
and mended with its own connection, a church without one is passed over, and a church whose
grant PCO revoked is reported without keeping the others from their check."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from rq.job import Job

from flask_pco.client.oauth import revoke_token
from flask_pco.jobs.queue import sync_queue
from flask_pco.jobs.webhooks import webhook_housekeeping
from flask_pco.jobs.workers import make_worker
from flask_pco.sandbox import SandboxServer
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.state import current_pco
from flask_pco.sync.webhooks.repair import webhook_warning
from flask_pco.sync.webhooks.subscriptions import install_subscriptions
from flask_pco.tenancy import use_organization
from tests.churches_site import CLIENT

from .conftest import GRACE, HOPE, HOPE_ORGANIZATION

SUBSCRIPTIONS = "/webhooks/v2/subscriptions"


def install(church: str) -> None:
    """What `flask pco --organization <church> webhooks install` does."""
    with use_organization(church):
        install_subscriptions(current_pco())


def in_pco(sandbox: SandboxServer, organization: str) -> list[dict[str, Any]]:
    """The organisation's subscriptions as PCO holds them."""
    store = sandbox.app.extensions["pco_sandboxes"][organization].store
    return list(store.tables["Subscription"].values())


def deactivate_one(sandbox: SandboxServer, organization: str) -> str:
    """PCO gives up on one of the organisation's subscriptions (16 failed retries)."""
    first = in_pco(sandbox, organization)[0]
    sandbox.control_for(organization).edit_subscription(first["id"], active=False)
    return str(first["name"])


def subscription_listings(sandbox: SandboxServer, organization: str) -> int:
    """How often the organisation was asked for its subscriptions, since the log was cleared."""
    log = sandbox.control_for(organization).requests()
    return sum(entry["path"].split("?")[0] == SUBSCRIPTIONS for entry in log)


def run_hourly_job() -> str:
    """What ``flask pco scheduler`` queues every hour (on the site's own queue), taken by a
    worker; what the job said."""
    job = sync_queue().enqueue("flask_pco.jobs.queue.webhook_housekeeping_job")
    make_worker(simple=True).work(burst=True)
    return str(Job.fetch(job.id, connection=job.connection).return_value())


def revoke_grant(sandbox: SandboxServer, church: str) -> None:
    """The church removes the site's app in PCO: its grant, both tokens, is revoked."""
    with use_organization(church):
        token = current_pco().token_store().token() or {}
    revoke_token(sandbox.url, token=str(token["refresh_token"]), **CLIENT)


def test_the_site_has_no_credentials_of_its_own(own_site: Flask) -> None:
    assert not current_pco().config.has_credentials


def test_the_hourly_job_mends_a_subscription_of_a_church_connected_only_through_oauth(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    install(GRACE)
    install(HOPE)
    deactivate_one(own_sandbox, HOPE_ORGANIZATION)

    said = run_hourly_job()

    assert all(s["active"] for s in in_pco(own_sandbox, HOPE_ORGANIZATION))
    assert f"church {HOPE}: 0 deliveries applied again; 1 subscriptions mended" in said


def test_each_church_s_subscriptions_are_asked_of_its_own_organisation(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    install(GRACE)
    install(HOPE)
    for organization in (ORGANIZATION_ID, HOPE_ORGANIZATION):
        own_sandbox.control_for(organization).clear_requests()

    run_hourly_job()

    assert subscription_listings(own_sandbox, ORGANIZATION_ID) == 1
    assert subscription_listings(own_sandbox, HOPE_ORGANIZATION) == 1


def test_a_church_without_a_connection_is_passed_over_quietly(own_site: Flask) -> None:
    with use_organization("3"):  # disconnected since it installed its subscriptions
        state = current_pco()
        state.db.session.add(state.models.WebhookSubscription(
            pco_id="9", name="people.v2.events.person.updated", url="https://x.example/", secret="s",
        ))  # fmt: skip
        state.db.session.commit()

        result = webhook_housekeeping(state)

        assert result.subscriptions is None and result.connection_refused == ""
        assert webhook_warning(state) is None  # not "webhooks unchecked": nothing to ask with
    assert "church 3" not in run_hourly_job()


def test_a_revoked_church_is_reported_and_the_other_is_still_mended(
    own_site: Flask, own_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    install(GRACE)
    install(HOPE)
    deactivate_one(own_sandbox, ORGANIZATION_ID)
    revoke_grant(own_sandbox, HOPE)
    own_sandbox.control.expire_access_tokens()  # HOPE's refresh is refused

    with caplog.at_level(logging.WARNING, logger="flask_pco"):
        said = run_hourly_job()

    assert all(s["active"] for s in in_pco(own_sandbox, ORGANIZATION_ID))
    assert f"church {GRACE}: 0 deliveries applied again; 1 subscriptions mended" in said
    assert f"church {HOPE}: skipped: " in said and "reconnect Planning Center" in said
    assert any(
        f"church {HOPE}" in r.getMessage() and "reconnect Planning Center" in r.getMessage()
        for r in caplog.records
    )


def test_a_church_pco_already_refused_is_not_asked_again(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    install(HOPE)
    revoke_grant(own_sandbox, HOPE)
    own_sandbox.control.expire_access_tokens()
    run_hourly_job()  # learns that PCO refuses the grant
    own_sandbox.control_for(HOPE_ORGANIZATION).clear_requests()

    said = run_hourly_job()

    assert own_sandbox.control_for(HOPE_ORGANIZATION).requests() == []
    assert f"church {HOPE}: skipped: " in said and "reconnect Planning Center" in said


def test_webhooks_status_asks_pco_with_the_church_s_connection(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    install(HOPE)
    name = deactivate_one(own_sandbox, HOPE_ORGANIZATION)

    result = own_site.test_cli_runner().invoke(
        args=["pco", "--organization", HOPE, "webhooks", "status"]
    )

    assert result.exit_code == 0, result.output
    assert any(line.startswith(name) and "INACTIVE" in line for line in result.output.splitlines())
