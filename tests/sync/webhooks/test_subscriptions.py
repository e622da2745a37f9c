"""Installing PCO subscriptions through the sandbox's Webhooks API, status and the admin overview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from example_app import pco
from example_app.models import db
from flask_pco import ConfigError
from flask_pco.models import utcnow
from flask_pco.sync.webhooks.subscriptions import (
    WANTED_EVENTS,
    install_subscriptions,
    refresh_subscriptions,
    subscription_statuses,
    webhook_overview,
)


def stored_subscriptions() -> list:
    Subscription = pco.models.WebhookSubscription
    db.session.expire_all()
    return list(db.session.scalars(select(Subscription).order_by(Subscription.name)))


def sandbox_subscriptions(sandbox) -> list[dict]:
    return list(sandbox.sandbox.store.tables.get("Subscription", {}).values())


def test_install_creates_one_subscription_per_wanted_event_and_stores_secrets(live, sandbox):
    state = pco_state()

    result = install_subscriptions(state)

    assert set(result.created) == set(WANTED_EVENTS)
    remote = sandbox_subscriptions(sandbox)
    assert {s["name"] for s in remote} == set(WANTED_EVENTS)
    assert {s["url"] for s in remote} == {live.webhook_url}
    local = stored_subscriptions()
    assert {(r.pco_id, r.secret) for r in local} == {
        (str(s["id"]), s["authenticity_secret"]) for s in remote
    }


def test_install_twice_creates_nothing_new(live, sandbox):
    install_subscriptions(pco_state())

    again = install_subscriptions(pco_state())

    assert again.created == ()
    assert set(again.existing) == set(WANTED_EVENTS)
    assert len(sandbox_subscriptions(sandbox)) == len(WANTED_EVENTS)
    assert len(stored_subscriptions()) == len(WANTED_EVENTS)


def test_install_reactivates_a_subscription_pco_disabled(live, sandbox):
    install_subscriptions(pco_state())
    disabled = sandbox_subscriptions(sandbox)[0]
    disabled["active"] = False

    result = install_subscriptions(pco_state())

    assert result.reactivated == (disabled["name"],)
    assert sandbox.sandbox.store.tables["Subscription"][disabled["id"]]["active"] is True


def test_install_without_public_url_fails_and_creates_nothing(app, sandbox):
    from flask_pco import current_pco

    with pytest.raises(ConfigError, match="PCO_PUBLIC_URL"):
        install_subscriptions(current_pco())

    assert sandbox_subscriptions(sandbox) == []


def test_refresh_marks_subscriptions_pco_disabled_as_inactive(live, sandbox):
    install_subscriptions(pco_state())
    sandbox_subscriptions(sandbox)[0]["active"] = False

    active = refresh_subscriptions(pco_state())

    assert active == len(WANTED_EVENTS) - 1
    assert sum(not r.active for r in stored_subscriptions()) == 1


def test_status_lists_the_last_delivery_per_event_name(live, sandbox):
    install_subscriptions(pco_state())
    when = utcnow() - timedelta(minutes=5)
    add_delivery("people.v2.events.person.updated", when)

    statuses = {s.name: s for s in subscription_statuses(pco_state())}

    assert statuses["people.v2.events.person.updated"].last_delivery_at == when
    assert statuses["people.v2.events.person.created"].last_delivery_at is None
    assert all(s.active for s in statuses.values())


def test_overview_reports_url_and_counts_but_never_the_secret(live, sandbox):
    install_subscriptions(pco_state())
    stored_subscriptions()[0].active = False
    db.session.commit()

    overview = webhook_overview(pco_state())

    assert overview.url == live.webhook_url
    assert overview.secret_configured is True
    assert (overview.subscriptions, overview.active_subscriptions) == (
        len(WANTED_EVENTS),
        len(WANTED_EVENTS) - 1,
    )
    secrets = {r.secret for r in stored_subscriptions()}
    assert not any(secret in repr(overview) for secret in secrets)


def test_cli_status_prints_each_subscription(live, sandbox):
    install_subscriptions(pco_state())

    result = live.app.test_cli_runner().invoke(args=["pco", "webhooks", "status"])

    assert result.exit_code == 0, result.output
    assert "people.v2.events.person_merger.created" in result.output
    assert "INACTIVE" not in result.output


def test_cli_install_reports_what_it_created(live, sandbox):
    result = live.app.test_cli_runner().invoke(args=["pco", "webhooks", "install"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(line.startswith("created ") for line in lines) == len(WANTED_EVENTS)
    assert len(stored_subscriptions()) == len(WANTED_EVENTS)


def pco_state():
    from flask_pco import current_pco

    return current_pco()


def add_delivery(name: str, received_at) -> None:
    db.session.add(
        pco.models.WebhookDelivery(
            event_id=f"e-{name}-{received_at.isoformat()}",
            name=name,
            payload="{}",
            status="applied",
            received_at=received_at,
        )
    )
    db.session.commit()


def test_cli_status_after_a_gap_warns_and_starts_nothing(live, sandbox):
    install_subscriptions(pco_state())
    add_delivery("people.v2.events.person.updated", utcnow() - timedelta(hours=7))

    result = live.app.test_cli_runner().invoke(args=["pco", "webhooks", "status", "--no-refresh"])

    assert result.exit_code == 0, result.output
    assert "no delivery for longer than PCO_WEBHOOK_GAP" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(pco.models.SyncRun)).all() == []
