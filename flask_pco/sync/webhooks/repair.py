"""The hourly look at this site's PCO webhook subscriptions, mending what PCO changed.

PCO deactivates a subscription whose deliveries kept failing (a 410, or 16 failed retries over
about 5.4 days, REFERENCE §6.5); someone may delete one or rotate its secret in PCO's UI. Until
then nothing warns, and PCO's changes wait for the next pull. ``check_subscriptions`` asks PCO
once (one listing: one request when all is well) and, for each subscription this site
installed:

* inactive: reactivates it (PATCH ``active``), as ``flask pco webhooks install`` does;
* gone: creates it again for the same event and URL;
* a secret other than the stored one (every delivery would be refused): stores PCO's secret;

and subscribes to events the sync applies that the site has no subscription for yet (after an
upgrade of flask-pco, say).

What it could not mend stays inactive locally, with PCO's answer kept (setting
``webhook_check``), so ``webhook_warning`` can say it on the admin page, in ``flask pco status``
and in an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flask_pco.exceptions import PcoError
from flask_pco.models import utcnow
from flask_pco.redaction import first_line
from flask_pco.sync.webhook_health import note_trouble
from flask_pco.sync.webhooks.subscriptions import (
    CHECK_SETTING,
    SUBSCRIPTIONS_PATH,
    WANTED_EVENTS,
    available_names,
    ensure_subscription,
    webhook_url,
)

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.state import PcoState

__all__ = ["SubscriptionCheck", "WebhookWarning", "check_subscriptions", "webhook_warning"]

#: How an alert and the health reasons name the trouble (``alerts`` keys its memory on it).
INACTIVE = "webhooks inactive"
UNCHECKED = "webhooks unchecked"


@dataclass(frozen=True, slots=True)
class SubscriptionCheck:
    """What one check found and did, by event name."""

    reactivated: tuple[str, ...] = ()
    recreated: tuple[str, ...] = ()
    #: Events the sync now applies that this site had no subscription for yet.
    added: tuple[str, ...] = ()
    secrets_updated: tuple[str, ...] = ()
    #: Subscriptions that do not work in PCO and could not be mended.
    unrepaired: tuple[str, ...] = ()
    #: PCO's answer to the listing or to the first repair it refused.
    error: str | None = None

    @property
    def repaired(self) -> tuple[str, ...]:
        return (*self.reactivated, *self.recreated, *self.added, *self.secrets_updated)

    @property
    def ok(self) -> bool:
        return not self.unrepaired and self.error is None


@dataclass(frozen=True, slots=True)
class WebhookWarning:
    #: For the admin, with PCO's answer.
    text: str
    #: For an alert: counts only, never PCO's words.
    alert: str


@dataclass
class _Tally:
    done: dict[str, list[str]] = field(
        default_factory=lambda: {
            k: [] for k in ("reactivated", "created", "added", "secret", "failed")
        }
    )
    error: str | None = None
    #: New events not to ask PCO for again (not offered, or refused).
    skipped: list[str] = field(default_factory=list)

    def result(self) -> SubscriptionCheck:
        d = self.done
        return SubscriptionCheck(
            reactivated=tuple(d["reactivated"]),
            recreated=tuple(d["created"]),
            added=tuple(d["added"]),
            secrets_updated=tuple(d["secret"]),
            unrepaired=tuple(d["failed"]),
            error=self.error,
        )


def check_subscriptions(state: PcoState, client: PcoClient | None = None) -> SubscriptionCheck:
    """Ask PCO for the subscriptions and mend the ones this site installed where it can.

    Nothing to do (no request) when none is installed. Never raises a ``PcoError``: a PCO that
    does not answer is itself a finding, kept for ``webhook_warning``.
    """
    Subscription = state.models.WebhookSubscription
    rows = list(state.db.session.scalars(select(Subscription).order_by(Subscription.id)))
    if not rows:
        return SubscriptionCheck()
    try:
        client = client or state.client()
        live = list(client.iterate(SUBSCRIPTIONS_PATH, per_page=100))  # PCO's largest page
    except PcoError as error:
        result = SubscriptionCheck(error=first_line(error))
        _remember(state, result, listing_failed=True)
        return result
    tally = _Tally()
    by_id = {resource.id: resource for resource in live}
    by_place = {(resource.get("name"), resource.get("url")): resource for resource in live}
    installed = {row.name for row in rows}
    for row in rows:
        resource = by_id.get(row.pco_id) or by_place.get((row.name, row.url))
        _mend(state, client, row, resource, tally)
    _subscribe_new_events(state, client, installed, by_place, tally)
    result = tally.result()
    _remember(state, result, listing_failed=False, skipped=tally.skipped)
    return result


def _subscribe_new_events(
    state: PcoState,
    client: PcoClient,
    installed: set[str],
    by_place: dict[tuple[Any, Any], Any],
    tally: _Tally,
) -> None:
    """Subscribe to events the sync has learnt to apply since this site installed its
    subscriptions (a new version of flask-pco), as ``install`` would.

    The catalog is read (one more request) only while such an event is neither installed nor
    known to be out of reach; one PCO does not offer, or refused, is not asked for again until
    an admin installs the webhooks.
    """
    skipped = set(_recall(state).get("skipped") or ())
    tally.skipped = sorted(skipped)
    new = [n for n in WANTED_EVENTS if n not in installed and n not in skipped]
    if not new or not state.config.public_url:
        return
    url = webhook_url(state)
    offered = available_names(client)
    for name in new:
        if name in offered and _subscribe(state, client, name, url, by_place.get((name, url))):
            tally.done["added"].append(name)
        else:
            tally.skipped.append(name)


def _subscribe(state: PcoState, client: PcoClient, name: str, url: str, resource: Any) -> bool:
    try:
        ensure_subscription(state, client, name, url, resource)
    except PcoError:
        state.db.session.rollback()
        return False
    state.db.session.commit()
    return True


def _mend(
    state: PcoState, client: PcoClient, row: Any, resource: Any | None, tally: _Tally
) -> None:
    """One subscription: leave, mend or mark inactive; committed on its own, so one PCO refusal
    does not undo the repairs before it."""
    name = row.name
    try:
        outcome = _repair(state, client, row, resource)
    except PcoError as error:
        state.db.session.rollback()
        row.active = False
        tally.done["failed"].append(name)
        tally.error = tally.error or first_line(error)
    else:
        if outcome is not None:
            tally.done[outcome].append(name)
    state.db.session.commit()


def _repair(state: PcoState, client: PcoClient, row: Any, resource: Any | None) -> str | None:
    if resource is not None and resource.id != row.pco_id:
        row.pco_id = resource.id  # recreated in PCO's UI for the same event and URL: adopt it
    if resource is not None and resource.get("active"):
        row.active = True
        secret = resource.get("authenticity_secret")
        if secret and secret != row.secret:  # rotated in PCO: deliveries fail verification
            row.secret = secret
            return "secret"
        return None
    done = ensure_subscription(state, client, row.name, row.url, resource)
    if done == "created":
        state.db.session.delete(row)  # PCO gave it a new id; ``ensure`` stored a row for that
    return "created" if done == "created" else "reactivated"


def webhook_warning(state: PcoState) -> WebhookWarning | None:
    """The warning to show while subscriptions do not work or PCO cannot be asked; None else."""
    Subscription = state.models.WebhookSubscription
    total, active = state.db.session.execute(
        select(func.count(Subscription.id), func.count(Subscription.id).filter(Subscription.active))
    ).one()
    check = _recall(state)
    error = check.get("error")
    inactive = int(total) - int(active)
    if inactive:
        counts = f"{inactive} of {total} webhook subscriptions do not work in PCO"
        why = f" (PCO answered: {error})" if error else ""
        text = (
            f"{INACTIVE}: {counts}{why}, so PCO's changes wait for the next pull. The hourly "
            "housekeeping repairs them where it can; or press Install webhooks "
            "(`flask pco webhooks install`)."
        )
        return WebhookWarning(text, f"{INACTIVE}: {counts}")
    if error and check.get("listing_failed") and total:
        what = "could not ask PCO whether the webhook subscriptions work"
        return WebhookWarning(f"{UNCHECKED}: {what} ({error})", f"{UNCHECKED}: {what}")
    return None


def _recall(state: PcoState) -> dict[str, Any]:
    row = state.db.session.get(state.models.Setting, state.setting_key(CHECK_SETTING))
    return row.value if row is not None and isinstance(row.value, dict) else {}


def _remember(
    state: PcoState,
    result: SubscriptionCheck,
    *,
    listing_failed: bool,
    skipped: list[str] | None = None,
) -> None:
    if skipped is None:  # PCO did not answer: keep what an earlier check learnt
        skipped = list(_recall(state).get("skipped") or ())
    value = {
        "skipped": skipped,
        "checked_at": utcnow().isoformat(),
        "listing_failed": listing_failed,
        "error": result.error,
        "unrepaired": list(result.unrepaired),
        "repaired": list(result.repaired),
    }
    state.db.session.merge(state.models.Setting(key=state.setting_key(CHECK_SETTING), value=value))
    # Anything mended or broken had PCO drop or refuse deliveries before this check.
    names = [*result.repaired, *result.unrepaired]
    note_trouble(
        state.db.session, state.models, names, key=state.setting_key, unknown=listing_failed
    )
    state.db.session.commit()
