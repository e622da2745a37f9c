"""Membership webhook health is each church's own: one church's trouble or failed check of
its subscriptions makes only its own incremental groups pull list every group again."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from flask_pco.models import utcnow
from flask_pco.state import current_pco
from flask_pco.sync.webhook_health import (
    CHECK_SETTING,
    MEMBERSHIP_EVENTS,
    membership_webhooks_healthy_since,
    note_trouble,
)
from flask_pco.tenancy import use_organization

from .conftest import GRACE, HOPE

#: When the churches' groups were last listed in full.
LISTED_AGO = timedelta(minutes=10)


def make_healthy(church: str) -> None:
    """Membership subscriptions older than the last listing, checked clean just now."""
    with use_organization(church):
        state = current_pco()
        for name in MEMBERSHIP_EVENTS:
            state.db.session.add(state.models.WebhookSubscription(
                pco_id=f"{church}-{name}", name=name, url="https://x.example/", secret="s",
                created_at=utcnow() - timedelta(hours=1),
            ))  # fmt: skip
        check = {"checked_at": utcnow().isoformat(), "listing_failed": False, "unrepaired": []}
        state.db.session.merge(state.models.Setting(key=state.setting_key(CHECK_SETTING), value=check))  # fmt: skip
        state.db.session.commit()


def healthy(church: str) -> bool:
    with use_organization(church):
        state = current_pco()
        since = utcnow() - LISTED_AGO
        return membership_webhooks_healthy_since(
            state.db.session, state.models, since, key=state.setting_key
        )


def test_trouble_noted_for_one_church_leaves_the_other_healthy(site: Flask) -> None:
    make_healthy(GRACE)
    make_healthy(HOPE)

    with use_organization(GRACE):
        state = current_pco()
        note_trouble(state.db.session, state.models, [], key=state.setting_key, unknown=True)
        state.db.session.commit()

    assert (healthy(GRACE), healthy(HOPE)) == (False, True)


def test_one_church_s_failed_check_leaves_the_other_healthy(site: Flask) -> None:
    make_healthy(GRACE)
    make_healthy(HOPE)

    with use_organization(HOPE):
        state = current_pco()
        failed = {"checked_at": utcnow().isoformat(), "listing_failed": True}
        state.db.session.merge(state.models.Setting(key=state.setting_key(CHECK_SETTING), value=failed))  # fmt: skip
        state.db.session.commit()

    assert (healthy(GRACE), healthy(HOPE)) == (True, False)
