"""Telling a person when the sync needs one: a failed run, records left behind, removals
waiting for approval, webhooks gone quiet or inactive, a stale schedule; and once when it is
healthy again.

Three channels, each optional, all told the same thing at the same time:

- ``PCO_ALERT_URLS``: Apprise URLs (``mailtos://``, ``slack://``, ``json://`` and many more).
- ``PCO_ALERT_WEBHOOK_URL``: a chat tool's incoming webhook as the tool gives it. Apprise
  knows Slack's, Discord's and Teams workflows' own https URLs; any other https URL gets
  Apprise's JSON post.
- ``PCO_ALERT_EMAILS``: sent by the host's own mail set-up, never by SMTP code of ours: the
  callback registered with ``@pco.alert_mailer``, else the app's Flask-Mail, else its
  Flask-Mailman. Which of those exists is only known once the app is fully set up (the host
  may register either after ``init_app``), so a site with none says so when it first alerts.

At most one alert per cause per hour: what was said, and when, is kept in the settings table.
An alert carries counts, run numbers and record types, never an error's words or a record's
values (``Health.alerts``), and no URL, address or secret. A channel that fails is logged and
the others still get the alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app

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
    when nothing runs. Does nothing without an alert channel configured.
    """
    if not state.config.has_alerts:
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
    """Tell every configured channel; one that fails is logged, never raised (an alert must not
    break the run or the housekeeping that sends it), and does not keep the others from it."""
    body = "\n".join(f"- {line}" for line in lines) + "\n\nSee the admin page: /admin/pco-sync/"
    if state.config.alert_urls or state.config.alert_webhook_url:
        _notify(state, title, body)
    if state.config.alert_emails:
        _email(state, title, body)


def _notify(state: PcoState, title: str, body: str) -> None:
    """Send through Apprise to ``PCO_ALERT_URLS`` and ``PCO_ALERT_WEBHOOK_URL``."""
    import apprise  # the optional ``alerts`` extra, loaded only when alerts are configured

    notifier = apprise.Apprise()
    for url in state.config.alert_urls:
        notifier.add(url)
    if state.config.alert_webhook_url:
        notifier.add(webhook_target(state.config.alert_webhook_url))
    try:
        delivered = notifier.notify(title=title, body=body)
    except Exception as error:  # a broken channel plug-in
        log.warning("flask-pco alert not sent: %s", first_line(error))
        return
    if not delivered:
        log.warning(
            "flask-pco alert not sent to every channel in PCO_ALERT_URLS and PCO_ALERT_WEBHOOK_URL"
        )


def webhook_target(url: str) -> Any:
    """What Apprise sends ``PCO_ALERT_WEBHOOK_URL`` through: the plug-in of the chat tool whose
    own webhook URL it is (Slack, Discord, Teams...), else a JSON post to the URL as it is
    (``jsons://``, its query string kept: Apprise passes ``-name`` parameters on)."""
    import apprise

    with _quiet_apprise():  # a URL no plug-in knows is expected here, not an error to log
        native = apprise.Apprise.instantiate(url)
    if native is not None:
        return native
    parts = urlsplit(url)
    query = urlencode([(f"-{k}", v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit(("jsons", parts.netloc, parts.path, query, ""))


class _NotNativeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unparseable URL")


@contextmanager
def _quiet_apprise() -> Iterator[None]:
    logger, quiet = logging.getLogger("apprise"), _NotNativeFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _email(state: PcoState, subject: str, body: str) -> None:
    """Email ``PCO_ALERT_EMAILS`` with the host's mail set-up."""
    send = _mailer(state)
    if send is None:
        log.error(
            "flask-pco alert not emailed: PCO_ALERT_EMAILS is set but the site has no way to "
            "send mail; register one with @pco.alert_mailer or set up Flask-Mail or Flask-Mailman"
        )
        return
    try:
        send(list(state.config.alert_emails), subject, body)
    except Exception as error:  # the mail server refused, or no sender is configured
        log.warning("flask-pco alert not emailed: %s", first_line(error))


def _mailer(state: PcoState) -> Callable[[list[str], str, str], Any] | None:
    """The host's way to send mail, in order: its ``@pco.alert_mailer``, its Flask-Mail, its
    Flask-Mailman (either imported only when the app has it set up)."""
    # Read with getattr: the state's view of the extension lists only what every layer needs.
    registered: Callable[[list[str], str, str], Any] | None = getattr(
        state.extension, "_alert_mailer", None
    )
    if registered is not None:
        return registered
    if "mail" in current_app.extensions:
        return _flask_mail
    if "mailman" in current_app.extensions:
        return _flask_mailman
    return None


def _flask_mail(recipients: list[str], subject: str, body: str) -> None:
    from flask_mail import Message

    message = Message(subject=subject, recipients=[*recipients], body=body)
    current_app.extensions["mail"].send(message)


def _flask_mailman(recipients: list[str], subject: str, body: str) -> None:
    from flask_mailman import EmailMessage

    EmailMessage(subject=subject, body=body, to=recipients).send()


def _recall(state: PcoState) -> dict[str, Any]:
    setting = state.db.session.get(state.models.Setting, state.setting_key(SETTING_KEY))
    return setting.value if setting is not None and isinstance(setting.value, dict) else {}


def _remember(state: PcoState, value: dict[str, Any]) -> None:
    state.db.session.merge(state.models.Setting(key=state.setting_key(SETTING_KEY), value=value))
    state.db.session.commit()
