"""The hourly check of PCO's subscriptions: mending what PCO changed, warning of what it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from example_app import pco
from example_app.models import db
from flask_pco import current_pco
from flask_pco.jobs.health import health
from flask_pco.jobs.queue import sync_queue
from flask_pco.sync.webhooks.repair import check_subscriptions, webhook_warning
from flask_pco.sync.webhooks.subscriptions import WANTED_EVENTS, install_subscriptions

PERSON_CREATED = "people.v2.events.person.created"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A sandbox whose 16 retries (PCO's number) come 10 ms apart, not over 5.4 days."""
    from flask_pco.sandbox import SandboxServer, create_sandbox_app

    with SandboxServer(create_sandbox_app(webhook_retry_delays=(0.01,))) as server:
        yield server


def stored() -> dict[str, Any]:
    Subscription = pco.models.WebhookSubscription
    db.session.expire_all()
    return {row.name: row for row in db.session.scalars(select(Subscription))}


def in_pco(sandbox: Any) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in sandbox.sandbox.store.tables["Subscription"].values()}


def installed(sandbox: Any) -> dict[str, dict[str, Any]]:
    install_subscriptions(current_pco())
    sandbox.control.clear_requests()
    return in_pco(sandbox)


def delivery_just_now() -> None:
    """A delivery a moment ago: webhooks are not stale, so what health says is about them."""
    db.session.add(
        pco.models.WebhookDelivery(
            event_id="e-recent", name=PERSON_CREATED, payload="{}", status="applied"
        )
    )
    db.session.commit()


def run_hourly_job() -> None:
    """What ``flask pco scheduler`` queues every hour, taken by a worker."""
    queue = sync_queue()
    queue.enqueue("flask_pco.jobs.queue.webhook_housekeeping_job")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def requests_made(sandbox: Any) -> list[str]:
    return [f"{r['method']} {r['path'].split('?')[0]}" for r in sandbox.control.requests()]


def test_the_hourly_job_reactivates_subscriptions_pco_deactivated(queued):
    remote = installed(queued.sandbox)
    for subscription in remote.values():
        queued.sandbox.control.edit_subscription(subscription["id"], active=False)

    run_hourly_job()

    assert all(s["active"] for s in in_pco(queued.sandbox).values())
    assert all(row.active for row in stored().values())
    assert webhook_warning(current_pco()) is None


def test_healthy_subscriptions_cost_one_request(live, sandbox):
    installed(sandbox)

    result = check_subscriptions(current_pco())

    assert result.ok and result.repaired == ()
    assert requests_made(sandbox) == ["GET /webhooks/v2/subscriptions"]


def test_a_subscription_deleted_in_pco_is_created_again(live, sandbox):
    remote = installed(sandbox)
    sandbox.control.delete_subscription(remote[PERSON_CREATED]["id"])

    result = check_subscriptions(current_pco())

    assert result.recreated == (PERSON_CREATED,)
    again = in_pco(sandbox)[PERSON_CREATED]
    row = stored()[PERSON_CREATED]
    assert (row.pco_id, row.secret, row.active) == (again["id"], again["authenticity_secret"], True)
    assert len(stored()) == len(WANTED_EVENTS)  # the old row went with the old subscription


def test_a_secret_rotated_in_pco_is_stored_so_deliveries_verify_again(church, sandbox):
    remote = installed(sandbox)
    sandbox.control.edit_subscription(remote[PERSON_CREATED]["id"], authenticity_secret=None)
    rotated = in_pco(sandbox)[PERSON_CREATED]["authenticity_secret"]

    result = check_subscriptions(current_pco())
    pco_id = church.add_pco_person("Ruth", "Moab")
    sandbox.control.flush_webhooks()

    assert result.secrets_updated == (PERSON_CREATED,)
    assert stored()[PERSON_CREATED].secret == rotated
    assert church.local(pco_id).first_name == "Ruth"


def test_a_subscription_pco_will_not_reactivate_warns_in_health_and_status(live, sandbox):
    remote = installed(sandbox)
    sandbox.control.edit_subscription(remote[PERSON_CREATED]["id"], active=False)
    sandbox.control.set_faults(error_rate=1.0, error_methods=("PATCH", "POST"))
    delivery_just_now()

    result = check_subscriptions(current_pco())
    report = health(current_pco())
    status = live.app.test_cli_runner().invoke(args=["pco", "status"])

    assert result.unrepaired == (PERSON_CREATED,) and "500" in (result.error or "")
    assert not stored()[PERSON_CREATED].active
    assert report.state == "degraded"
    [reason] = [r for r in report.reasons if r.startswith("webhooks inactive")]
    assert f"1 of {len(WANTED_EVENTS)} webhook subscriptions do not work in PCO" in reason
    assert "PCO answered" in reason
    assert "warning: webhooks inactive: 1 of" in status.output


def test_the_next_check_mends_what_the_last_one_could_not(live, sandbox):
    remote = installed(sandbox)
    sandbox.control.edit_subscription(remote[PERSON_CREATED]["id"], active=False)
    sandbox.control.set_faults(error_rate=1.0, error_methods=("PATCH",))
    check_subscriptions(current_pco())
    sandbox.control.set_faults()

    result = check_subscriptions(current_pco())

    assert result.reactivated == (PERSON_CREATED,)
    assert webhook_warning(current_pco()) is None
    assert not [r for r in health(current_pco()).reasons if r.startswith("webhooks")]


def test_pco_not_answering_about_subscriptions_is_a_warning(live, sandbox):
    installed(sandbox)
    sandbox.control.set_denied_apps("webhooks")

    result = check_subscriptions(current_pco())
    warning = webhook_warning(current_pco())

    assert result.error is not None and not result.ok
    assert warning is not None
    assert warning.text.startswith("webhooks unchecked: could not ask PCO")
    assert warning.alert == (
        "webhooks unchecked: could not ask PCO whether the webhook subscriptions work"
    )


def test_nothing_installed_means_no_request(live, sandbox):
    result = check_subscriptions(current_pco())

    assert result.ok
    assert requests_made(sandbox) == []


def test_a_subscription_pco_gave_up_on_is_mended_and_deliveries_flow_again(church, sandbox):
    installed(sandbox)
    for row in stored().values():
        row.secret = "lost"  # say, the database was restored from an older backup
    db.session.commit()
    first = church.add_pco_person("Ruth", "Moab")
    sandbox.control.flush_webhooks()
    tries = [d for d in sandbox.control.deliveries() if d["name"] == PERSON_CREATED]
    assert (len(tries), tries[-1]["status"]) == (17, 401)  # the first attempt and 16 retries
    assert in_pco(sandbox)[PERSON_CREATED]["active"] is False

    result = check_subscriptions(current_pco())
    second = church.add_pco_person("Naomi", "Moab")
    sandbox.control.flush_webhooks()

    assert result.reactivated == (PERSON_CREATED,)
    assert len(result.secrets_updated) == len(WANTED_EVENTS) - 1
    assert church.local(first) is None  # PCO gave up on it: a pull brings it
    assert church.local(second).first_name == "Naomi"


def forget_locally(name: str) -> None:
    """As if this site installed its webhooks before the sync applied ``name``'s event."""
    db.session.delete(stored()[name])
    db.session.commit()


def test_an_event_the_sync_now_applies_is_subscribed_to_by_the_next_check(live, sandbox):
    remote = installed(sandbox)
    sandbox.control.delete_subscription(remote[PERSON_CREATED]["id"])
    forget_locally(PERSON_CREATED)

    result = check_subscriptions(current_pco())

    assert result.added == (PERSON_CREATED,)
    assert in_pco(sandbox)[PERSON_CREATED]["active"] is True
    assert stored()[PERSON_CREATED].secret == in_pco(sandbox)[PERSON_CREATED]["authenticity_secret"]
    assert requests_made(sandbox) == [
        "GET /webhooks/v2/subscriptions",
        "GET /webhooks/v2/available_events",
        "POST /webhooks/v2/subscriptions",
    ]


def test_an_event_pco_refuses_is_not_asked_for_every_hour(live, sandbox):
    remote = installed(sandbox)
    sandbox.control.delete_subscription(remote[PERSON_CREATED]["id"])
    forget_locally(PERSON_CREATED)
    sandbox.control.set_faults(error_rate=1.0, error_methods=("POST",))
    check_subscriptions(current_pco())
    sandbox.control.clear_requests()

    result = check_subscriptions(current_pco())

    assert result.ok and result.added == ()
    assert requests_made(sandbox) == ["GET /webhooks/v2/subscriptions"]
    assert webhook_warning(current_pco()) is None
