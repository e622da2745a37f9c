"""Whether Groups membership webhooks have kept this site current since a given time.

An incremental groups pull trusts them instead of listing every group's memberships again
(``pull.group_listings``), so "healthy" is decided strictly, from what this site recorded:

* a subscription for each membership event, active, and stored before that time (one created
  since, by an install or a repair, means events before it went nowhere);
* the hourly check of the subscriptions (``webhooks.repair``) ran within ``CHECK_FRESH``,
  reached PCO and found nothing to mend;
* no trouble noted since that time: a check or an install that had to create, reactivate or
  re-key a membership subscription, or could not reach PCO, notes when (``note_trouble``), since
  PCO dropped or refused deliveries before;
* no membership delivery waiting (received and not applied yet, or failed): what was delivered
  has been applied.

Each church of a site of many has its own: its subscriptions and deliveries are its own rows
(``flask_pco.tenancy``), and both settings are read and written under its key, ``key`` being
``PcoState.setting_key`` (one church's failed check or trouble says nothing of another's).

Kept beside the other shared modules: the pull reads it, the webhook code writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from flask_pco.models import utcnow

__all__ = [
    "CHECK_FRESH",
    "CHECK_SETTING",
    "MEMBERSHIP_EVENTS",
    "TROUBLE_SETTING",
    "membership_webhooks_healthy_since",
    "note_trouble",
]

#: Setting key holding what the last hourly check of the subscriptions found (``repair``).
CHECK_SETTING = "webhook_check"
#: Setting key holding when membership webhooks last could have missed events.
TROUBLE_SETTING = "membership_webhooks_trouble_at"
#: The Groups events that keep memberships current between listings.
MEMBERSHIP_EVENTS: tuple[str, ...] = tuple(
    f"groups.v2.events.membership.{action}" for action in ("created", "updated", "destroyed")
)
#: The check runs hourly; one older than this means nobody is looking.
CHECK_FRESH = timedelta(hours=2)
#: Delivery states that are not applied yet.
_WAITING = ("received", "failed")

#: A church's settings key of a setting name (``PcoState.setting_key``).
SettingKey = Callable[[str], str]


def note_trouble(
    session: Any, models: Any, names: Iterable[str], *, key: SettingKey, unknown: bool = False
) -> None:
    """Remember now as the last time membership webhooks may have missed events, if ``names``
    (subscriptions created, reactivated, re-keyed or broken) include one of them, or if PCO
    could not be asked (``unknown``). The caller commits."""
    if not unknown and not set(names) & set(MEMBERSHIP_EVENTS):
        return
    session.merge(models.Setting(key=key(TROUBLE_SETTING), value=utcnow().isoformat()))


def membership_webhooks_healthy_since(
    session: Any, models: Any, since: datetime, *, key: SettingKey
) -> bool:
    """Whether every membership change PCO made after ``since`` has been applied here."""
    return (
        _subscribed_before(session, models, since)
        and _checked_clean(session, models, key)
        and not _trouble_after(session, models, since, key)
        and not _deliveries_waiting(session, models)
    )


def _subscribed_before(session: Any, models: Any, since: datetime) -> bool:
    Subscription = models.WebhookSubscription
    rows = session.execute(
        select(Subscription.name, Subscription.created_at).where(
            Subscription.name.in_(MEMBERSHIP_EVENTS), Subscription.active.is_(True)
        )
    ).all()
    covered = {name for name, created_at in rows if created_at <= since}
    return covered == set(MEMBERSHIP_EVENTS)


def _checked_clean(session: Any, models: Any, key: SettingKey) -> bool:
    row = session.get(models.Setting, key(CHECK_SETTING))
    check = row.value if row is not None and isinstance(row.value, dict) else {}
    checked_at = _timestamp(check.get("checked_at"))
    if checked_at is None or checked_at < utcnow() - CHECK_FRESH:
        return False
    return not (check.get("listing_failed") or check.get("error") or check.get("unrepaired"))


def _trouble_after(session: Any, models: Any, since: datetime, key: SettingKey) -> bool:
    row = session.get(models.Setting, key(TROUBLE_SETTING))
    if row is None:
        return False
    noted = _timestamp(row.value)
    return noted is None or noted >= since


def _deliveries_waiting(session: Any, models: Any) -> bool:
    Delivery = models.WebhookDelivery
    waiting = session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.name.in_(MEMBERSHIP_EVENTS), Delivery.status.in_(_WAITING)
        )
    )
    return bool(waiting)


def _timestamp(value: Any) -> datetime | None:
    """A stored ISO timestamp as naive UTC; None if unusable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
