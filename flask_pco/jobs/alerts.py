"""Telling a person when the sync needs one: a failed run, records left behind, removals
waiting for approval, webhooks gone quiet or inactive, a stale schedule; and once when it is
healthy again.

Alerts go to every URL in ``PCO_ALERT_URLS`` through Apprise (one well-kept library for email
``mailtos://``, Slack, Teams, Discord, a JSON webhook ``json://`` and many more), so the site
needs no mail or chat code of its own. At most one alert per cause per hour: what was said,
and when, is kept in the settings table. An alert carries counts, run numbers and record types,
never an error's words or a record's values (``Health.alerts``), and no URL or secret.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask_pco.jobs.health import cause_of, health
from flask_pco.models import utcnow
from flask_pco.redaction import first_line
from flask_pco.state import PcoState
from flask_pco.sync.webhooks.repair import INACTIVE, UNCHECKED

__all__ = ["ALERT_EVERY", "check_alerts"]

log = logging.getLogger(__name__)

#: The same cause is alerted at most this often.
ALERT_EVERY = timedelta(hours=1)
SETTING_KEY = "alerts"
#: Alert lines about the subscriptions, whose end gets a notice of its own.
WEBHOOK_CAUSES = (INACTIVE, UNCHECKED)


def check_alerts(state: PcoState, now: datetime | None = None) -> list[str]:
    """Send what is new since the last alert (or due again); return the lines sent.

    Called after every run and by the hourly housekeeping, so a stale schedule is noticed even
    when nothing runs. Does nothing without ``PCO_ALERT_URLS``.
    """
    if not state.config.alert_urls:
        return []
    now = now or utcnow()
    memory = _recall(state)
    report = health(state)
    causes: dict[str, str] = dict(memory.get("causes") or {})
    recovered = _webhooks_recovered(causes, report.alerts)
    if report.healthy:
        sent = []
        if memory.get("state", "healthy") != "healthy":
            sent = [*recovered, "the sync is healthy again"]
            _send(state, "Planning Center sync: healthy again", sent)
        _remember(state, {"state": "healthy", "causes": {}})
        return sent
    due = [line for line in report.alerts if _due(causes.get(cause_of(line)), now)]
    for line in due:
        causes[cause_of(line)] = now.isoformat()
    if due or recovered:
        _send(state, f"Planning Center sync: {report.state}", [*recovered, *due])
    _remember(state, {"state": report.state, "causes": causes})
    return [*recovered, *due]


def _webhooks_recovered(causes: dict[str, str], alerts: list[str]) -> list[str]:
    """The recovery notice when webhooks alerted before and work now (other causes may stay),
    forgetting their cause so a new outage alerts at once."""
    before = [cause for cause in causes if cause.startswith(WEBHOOK_CAUSES)]
    if not before or any(line.startswith(WEBHOOK_CAUSES) for line in alerts):
        return []
    for cause in before:
        del causes[cause]
    return ["webhooks work again: every subscription is active in PCO"]


def _due(last: str | None, now: datetime) -> bool:
    if last is None:
        return True
    try:
        return now - datetime.fromisoformat(last) >= ALERT_EVERY
    except ValueError:
        return True


def _send(state: PcoState, title: str, lines: list[str]) -> None:
    """Notify every configured URL; a channel that fails is logged, never raised: an alert
    must not break the run or the housekeeping that sends it."""
    import apprise  # the optional ``alerts`` extra, loaded only when alerts are configured

    notifier = apprise.Apprise()
    for url in state.config.alert_urls:
        notifier.add(url)
    body = "\n".join(f"- {line}" for line in lines) + "\n\nSee the admin page: /admin/pco-sync/"
    try:
        delivered = notifier.notify(title=title, body=body)
    except Exception as error:  # a broken channel plug-in
        log.warning("flask-pco alert not sent: %s", first_line(error))
        return
    if not delivered:
        log.warning("flask-pco alert not sent to every channel in PCO_ALERT_URLS")


def _recall(state: PcoState) -> dict[str, Any]:
    setting = state.db.session.get(state.models.Setting, SETTING_KEY)
    return setting.value if setting is not None and isinstance(setting.value, dict) else {}


def _remember(state: PcoState, value: dict[str, Any]) -> None:
    state.db.session.merge(state.models.Setting(key=SETTING_KEY, value=value))
    state.db.session.commit()
