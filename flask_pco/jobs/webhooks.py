"""Webhook work that starts jobs: handing stored deliveries to the workers, and the periodic
chores (checking and mending PCO's subscriptions, retrying failed deliveries, catching up on a
gap in deliveries).

``sync.webhooks`` decides and applies; this module is where that meets the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from flask_pco.exceptions import OrganizationUnknownError, SyncInProgressError
from flask_pco.jobs.churches import can_reach_pco, refused_connection
from flask_pco.jobs.queue import Mode, enqueue_webhook, start_sync
from flask_pco.redaction import first_line
from flask_pco.sync.journal import prune_journal
from flask_pco.sync.webhooks.events import apply_now, retry_failed_deliveries
from flask_pco.sync.webhooks.repair import SubscriptionCheck, check_subscriptions

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "GAP_CATCH_UP_STEPS",
    "WebhookHousekeeping",
    "check_webhook_gap",
    "dispatch_deliveries",
    "webhook_housekeeping",
]

log = logging.getLogger(__name__)

#: What a gap catch-up pulls: everything a webhook would have brought (people, households,
#: group memberships), in one run, since only one sync runs at a time.
GAP_CATCH_UP_STEPS = ("people", "families", "groups")


def dispatch_deliveries(state: PcoState, delivery_ids: tuple[int, ...]) -> None:
    """Apply stored deliveries inline without Redis, or queue one job each with it.

    If Redis refuses the job, the delivery is applied inline instead: it is already stored and
    PCO has been told nothing yet, so doing the work now beats a stuck ``received`` row.
    """
    if state.redis() is None:
        for delivery_id in delivery_ids:
            apply_now(state, delivery_id)
        return
    for delivery_id in delivery_ids:
        try:
            enqueue_webhook(delivery_id)
        except RedisError:
            apply_now(state, delivery_id)
        except OrganizationUnknownError as error:
            # Stored and waiting: a worker queues it again once PCO names the organisation.
            log.warning("flask-pco: delivery %s waits: %s", delivery_id, first_line(error))


def check_webhook_gap(state: PcoState, *, mode: Mode = "auto") -> bool:
    """Start a catch-up pull if deliveries stopped for longer than ``PCO_WEBHOOK_GAP``: an
    incremental ``full`` pull of the steps webhooks feed (``GAP_CATCH_UP_STEPS``) that this
    site's models allow.

    Once per gap. Returns True if a sync was started. ``mode`` is ``start_sync``'s: a
    short-lived process without Redis passes ``"inline"`` so the catch-up is not a daemon
    thread that dies with it.
    """
    # Imported here: the webhook route imports this module, and a web process needs no more.
    from flask_pco.sync.webhooks.subscriptions import note_gap_catch_up, webhook_gap_due

    if not webhook_gap_due(state):
        return False
    try:
        start_sync(
            "pull",
            "full",
            incremental=True,
            options={"steps": list(GAP_CATCH_UP_STEPS)},
            trigger="webhook-gap",
            mode=mode,
        )
    except SyncInProgressError:
        return False  # a sync is running already; it catches up just the same
    note_gap_catch_up(state)
    return True


@dataclass(frozen=True, slots=True)
class WebhookHousekeeping:
    catch_up_queued: bool
    deliveries_retried: int
    #: None when there was nothing to check (no credentials, no subscription installed).
    subscriptions: SubscriptionCheck | None = None
    #: Change-journal entries older than ``PCO_JOURNAL_DAYS`` that were deleted.
    journal_pruned: int = 0
    #: Why PCO refuses the church's OAuth connection ("reconnect Planning Center"), when it
    #: does: nothing more was asked of PCO (no retried delivery, no catch-up pull).
    connection_refused: str = ""


def webhook_housekeeping(state: PcoState) -> WebhookHousekeeping:
    """The periodic webhook chores, for the nightly job or an hourly cron.

    Asks PCO for the subscriptions and mends them (``check_subscriptions``: one request when all
    is well), so a subscription PCO deactivated works again within the hour with nobody typing
    a command; then re-applies failed or stuck deliveries, starts a catch-up pull if
    deliveries stopped, and prunes the change journal past ``PCO_JOURNAL_DAYS``.

    The check uses whatever credential the church has: the site's own, or the church's OAuth
    connection (a church of a site of many has only that). A church without either is not
    checked. A church whose connection PCO refuses (known before, or learnt by the check)
    asks PCO nothing more: its failed deliveries wait for the reconnect instead of failing
    again, and the refusal is returned for the job to report (health says it too).
    """
    refused = refused_connection(state)
    reachable = not refused and can_reach_pco(state)
    checked = check_subscriptions(state) if reachable else None
    refused = refused or refused_connection(state)  # the check may have met the refusal
    if refused:
        log.warning(
            "flask-pco: webhook housekeeping of %s stopped short of PCO: %s",
            f"church {state.organization}" if state.organization else "the site",
            refused,
        )
        return WebhookHousekeeping(False, 0, checked, prune_journal(state), refused)
    retried = retry_failed_deliveries(state)
    caught_up = check_webhook_gap(state)
    return WebhookHousekeeping(caught_up, retried, checked, prune_journal(state))
