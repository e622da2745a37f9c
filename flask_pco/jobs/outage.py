"""Redis may be down at any moment: how the page, the CLI and the workers say so.

Redis holds only the queue and the shared rate-limit budget; the runs, deliveries and their
outcomes live in the database. So a Redis outage delays work but loses none of it: a queued
run keeps its slot until a worker can take its job, a delivery whose job vanished is queued
again by a worker (``requeue_lost_deliveries``), and every look at RQ that is only advisory
(is this run's job still alive?) treats "Redis does not answer" as "cannot tell", never as
"the job is gone".
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from flask_pco.models import utcnow
from flask_pco.redaction import redact_url
from flask_pco.tenancy import organization_of_key, use_organization

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "redis_down_message",
    "redis_problem",
    "redis_unreachable",
    "requeue_lost_deliveries",
]


def redis_unreachable(state: PcoState, error: BaseException | None = None) -> str:
    """Which Redis (password masked) does not answer, and how it failed."""
    where = redact_url(state.config.redis_url)
    detail = str(error).splitlines()[0] if error is not None and str(error) else ""
    return f"Redis at {where} does not answer" + (f" ({detail})" if detail else "")


def redis_down_message(state: PcoState, error: BaseException | None = None) -> str:
    """One line: which Redis does not answer, what waits meanwhile, and what to do."""
    return (
        f"{redis_unreachable(state, error)}: queued runs wait, and nothing new can be queued "
        "until it is back; start Redis or fix PCO_REDIS_URL"
    )


def redis_problem(state: PcoState) -> str | None:
    """``redis_down_message`` if Redis is configured and does not answer a PING, else None."""
    redis = state.redis()
    if redis is None:
        return None
    from redis.exceptions import RedisError  # loaded with the connection anyway

    try:
        redis.ping()
    except RedisError as error:
        return redis_down_message(state, error)
    return None


def requeue_lost_deliveries(state: PcoState) -> int:
    """Queue again the deliveries still ``received`` after ``PCO_WEBHOOK_REQUEUE_AFTER`` whose
    job Redis no longer holds (it restarted empty, or was flushed); returns how many.

    Workers call this on start-up and every ``PCO_WEBHOOK_REQUEUE_AFTER`` seconds: one query
    on the (status, received_at) index, and one RQ look per delivery it finds. A delivery whose
    job still waits behind a long sync is left alone.
    """
    from flask_pco.jobs.queue import enqueue_webhook, is_pending, sync_queue, webhook_job_id

    Delivery = state.models.WebhookDelivery
    before = utcnow() - timedelta(seconds=state.config.webhook_requeue_after)
    found = state.db.session.execute(
        select(Delivery.id, Delivery.organization)
        .where(Delivery.status == "received", Delivery.received_at < before)
        .order_by(Delivery.received_at)
        .limit(1000)
    ).all()
    state.db.session.rollback()  # no transaction held open while the worker waits for jobs
    queue = sync_queue(state)
    lost = []
    for delivery_id, key in found:  # each church's delivery under its own job id
        church = organization_of_key(key)
        if not is_pending(queue, webhook_job_id(state.for_organization(church), delivery_id)):
            with use_organization(church):
                enqueue_webhook(delivery_id, mode="enqueue")
            lost.append(delivery_id)
    return len(lost)
