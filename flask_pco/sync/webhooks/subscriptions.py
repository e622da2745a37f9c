"""PCO webhook subscriptions for this site, and noticing when deliveries stop.

One subscription is one event name and one URL (REFERENCE §6.1); each has its own signing
secret, stored locally so the route can verify its deliveries. PCO disables a subscription
silently after days of failures, so ``webhook_gap_due`` notices when no delivery has arrived for
``PCO_WEBHOOK_GAP`` seconds (the job layer then starts an incremental pull).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select

from flask_pco.client.ids import path_id
from flask_pco.exceptions import ApiError, ConfigError
from flask_pco.models import utcnow
from flask_pco.sync.webhook_health import CHECK_SETTING, MEMBERSHIP_EVENTS, note_trouble

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.state import PcoState

__all__ = [
    "CHECK_SETTING",
    "SUBSCRIPTIONS_PATH",
    "WANTED_EVENTS",
    "InstallResult",
    "SubscriptionStatus",
    "WebhookOverview",
    "available_names",
    "ensure_subscription",
    "install_subscriptions",
    "last_delivery_at",
    "note_gap_catch_up",
    "subscription_statuses",
    "webhook_gap_due",
    "webhook_overview",
    "webhook_url",
]

SUBSCRIPTIONS_PATH = "/webhooks/v2/subscriptions"
AVAILABLE_EVENTS_PATH = "/webhooks/v2/available_events"
WEBHOOK_PATH = "/api/pco/webhook"
#: Setting key holding when the last gap catch-up was queued, so one gap queues one sync.
GAP_SETTING = "webhook_gap_sync_at"

#: What ``ensure_subscription`` had to do.
Ensured = Literal["created", "reactivated", "existing"]

#: The events the sync applies (see ``event_handlers.HANDLERS``).
WANTED_EVENTS: tuple[str, ...] = (
    *(
        f"people.v2.events.{resource}.{action}"
        for resource in ("person", "email", "phone_number", "address", "household", "field_datum")
        for action in ("created", "updated", "destroyed")
    ),
    "people.v2.events.person_merger.created",
    *MEMBERSHIP_EVENTS,
)


@dataclass(frozen=True, slots=True)
class InstallResult:
    created: tuple[str, ...]
    reactivated: tuple[str, ...]
    existing: tuple[str, ...]
    #: Wanted names PCO's catalog does not offer (not installed).
    unavailable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    name: str
    active: bool
    last_delivery_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookOverview:
    """What the admin page shows; never the secret itself."""

    url: str | None
    secret_configured: bool
    subscriptions: int
    active_subscriptions: int
    last_delivery_at: datetime | None


def webhook_url(state: PcoState) -> str:
    """The URL PCO posts to: ``PCO_PUBLIC_URL`` + ``/api/pco/webhook``."""
    if not state.config.public_url:
        raise ConfigError(
            "PCO_PUBLIC_URL is not set: set it to this site's public base URL "
            "(e.g. https://church.example.org) so PCO knows where to send webhooks"
        )
    return state.config.public_url + WEBHOOK_PATH


def install_subscriptions(state: PcoState, client: PcoClient | None = None) -> InstallResult:
    """Create the missing subscriptions for this site's URL, reactivate disabled ones, store secrets."""
    url = webhook_url(state)
    client = client or state.client()
    names = available_names(client)
    existing = {r.get("name"): r for r in client.iterate(SUBSCRIPTIONS_PATH) if r.get("url") == url}
    done: dict[Ensured, list[str]] = {"created": [], "reactivated": [], "existing": []}
    for name in names:
        done[ensure_subscription(state, client, name, url, existing.get(name))].append(name)
        state.db.session.commit()  # per subscription: a failure half-way keeps every secret so far
    # Created or reactivated: events before now went nowhere.
    note_trouble(
        state.db.session,
        state.models,
        [*done["created"], *done["reactivated"]],
        key=state.setting_key,
    )
    state.db.session.commit()
    unavailable = tuple(n for n in WANTED_EVENTS if n not in names)
    _forget_check(state)  # PCO answered and everything is active: an earlier warning is over
    return InstallResult(
        tuple(done["created"]), tuple(done["reactivated"]), tuple(done["existing"]), unavailable
    )


def ensure_subscription(
    state: PcoState, client: PcoClient, name: str, url: str, resource: Any | None
) -> Ensured:
    """Make one subscription exist and be active in PCO, and store it with PCO's secret.

    ``resource`` is PCO's record for it from a listing (None: PCO has none). One request at
    most: a POST for a missing one, a PATCH for an inactive one. The caller commits.
    """
    done: Ensured = "existing"
    if resource is None:
        attributes = {"name": name, "url": url, "active": True}
        resource, done = client.create(SUBSCRIPTIONS_PATH, "Subscription", attributes), "created"
    elif not resource.get("active"):
        path = f"{SUBSCRIPTIONS_PATH}/{path_id(resource.id)}"
        resource = client.update(path, "Subscription", resource.id, {"active": True})
        done = "reactivated"
    _store_subscription(state, resource, name, url)
    return done


def _forget_check(state: PcoState) -> None:
    row = state.db.session.get(state.models.Setting, state.setting_key(CHECK_SETTING))
    if row is not None:
        state.db.session.delete(row)
        state.db.session.commit()


def available_names(client: PcoClient) -> tuple[str, ...]:
    """The wanted event names PCO's catalog offers; all of them if the catalog cannot be read."""
    try:
        offered = {r.get("name") or r.id for r in client.iterate(AVAILABLE_EVENTS_PATH)}
    except ApiError:
        return WANTED_EVENTS
    return tuple(n for n in WANTED_EVENTS if n in offered)


def _store_subscription(state: PcoState, resource: Any, name: str, url: str) -> None:
    Subscription = state.models.WebhookSubscription
    row = state.db.session.scalar(select(Subscription).where(Subscription.pco_id == resource.id))
    if row is None:
        row = Subscription(pco_id=resource.id)
        state.db.session.add(row)
    row.name, row.url = name, url
    row.active = bool(resource.get("active", True))
    secret = resource.get("authenticity_secret")
    if secret:
        row.secret = secret
    elif row.secret is None:
        row.secret = ""


def refresh_subscriptions(state: PcoState, client: PcoClient | None = None) -> int:
    """Update the local ``active`` flags from PCO (it disables failing subscriptions silently)."""
    client = client or state.client()
    Subscription = state.models.WebhookSubscription
    rows = {r.pco_id: r for r in state.db.session.scalars(select(Subscription))}
    live = {r.id: r for r in client.iterate(SUBSCRIPTIONS_PATH)}
    for pco_id, row in rows.items():
        resource = live.get(pco_id)
        row.active = bool(resource is not None and resource.get("active"))
    state.db.session.commit()
    return sum(row.active for row in rows.values())


def subscription_statuses(state: PcoState) -> list[SubscriptionStatus]:
    """Each stored subscription with the last delivery received for its event name."""
    Subscription = state.models.WebhookSubscription
    Delivery = state.models.WebhookDelivery
    last: dict[str, datetime] = dict(
        state.db.session.execute(
            select(Delivery.name, func.max(Delivery.received_at)).group_by(Delivery.name)
        ).all()
    )
    rows = state.db.session.scalars(select(Subscription).order_by(Subscription.name)).all()
    return [SubscriptionStatus(r.name, bool(r.active), last.get(r.name)) for r in rows]


def last_delivery_at(state: PcoState) -> datetime | None:
    Delivery = state.models.WebhookDelivery
    return state.db.session.scalar(select(func.max(Delivery.received_at)))


def webhook_overview(state: PcoState) -> WebhookOverview:
    """The webhook facts for the admin page."""
    Subscription = state.models.WebhookSubscription
    total, active = state.db.session.execute(
        select(func.count(Subscription.id), func.count(Subscription.id).filter(Subscription.active))
    ).one()
    return WebhookOverview(
        url=state.config.public_url + WEBHOOK_PATH if state.config.public_url else None,
        secret_configured=bool(state.config.webhook_secrets) or bool(total),
        subscriptions=int(total),
        active_subscriptions=int(active),
        last_delivery_at=last_delivery_at(state),
    )


def webhook_gap_due(state: PcoState) -> bool:
    """Whether deliveries stopped for longer than ``PCO_WEBHOOK_GAP`` and no catch-up has been
    started for this gap yet. Only when webhooks are in use (a secret or a subscription).

    Deciding is this layer's; starting the catch-up pull is the job layer's
    (``flask_pco.jobs.webhooks.check_webhook_gap``), which calls ``note_gap_catch_up`` after.
    """
    if not webhooks_in_use(state):
        return False
    cutoff = utcnow() - timedelta(seconds=state.config.webhook_gap)
    last = last_delivery_at(state) or _first_subscription_at(state)
    previous = _gap_sync_at(state)
    return not (last is None or last >= cutoff or (previous is not None and previous >= cutoff))


def note_gap_catch_up(state: PcoState) -> None:
    """Remember that this gap's catch-up started, so one gap starts one pull."""
    _set_gap_sync_at(state, utcnow())


def webhooks_in_use(state: PcoState) -> bool:
    Subscription = state.models.WebhookSubscription
    has_rows = state.db.session.scalar(select(func.count(Subscription.id)))
    return bool(state.config.webhook_secrets) or bool(has_rows)


def _first_subscription_at(state: PcoState) -> datetime | None:
    Subscription = state.models.WebhookSubscription
    return state.db.session.scalar(select(func.min(Subscription.created_at)))


def _gap_sync_at(state: PcoState) -> datetime | None:
    from flask_pco.sync.webhooks.deliveries import parse_timestamp

    row = state.db.session.get(state.models.Setting, state.setting_key(GAP_SETTING))
    return parse_timestamp(row.value) if row is not None else None


def _set_gap_sync_at(state: PcoState, when: datetime) -> None:
    Setting = state.models.Setting
    key = state.setting_key(GAP_SETTING)
    row = state.db.session.get(Setting, key) or Setting(key=key)
    row.value = when.isoformat()
    state.db.session.add(row)
    state.db.session.commit()
