"""Webhook deliveries: parsed once, stored before anything else, then applied.

PCO answers nothing but our HTTP status, so the route only verifies, parses and stores; applying
happens after the row is committed (inline without Redis, as an RQ job with it). A row per event
id is also the idempotency key: PCO keeps the same event UUID across retries and redeliveries,
so a duplicate finds its row and does nothing twice (REFERENCE §6.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flask_pco.exceptions import PcoError
from flask_pco.models import DeliveryStatus, utcnow
from flask_pco.redaction import redact
from flask_pco.sync.busy import retry_while_busy
from flask_pco.sync.webhooks.deliveries import (
    DeliveryFormatError,
    EventDelivery,
    parse_deliveries,
    parse_payload,
    parse_timestamp,
)
from flask_pco.sync.webhooks.prefetch import people_batch

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "DeliveryFormatError",
    "EventDelivery",
    "StoredDeliveries",
    "apply_delivery",
    "apply_now",
    "parse_deliveries",
    "parse_timestamp",
    "retry_failed_deliveries",
    "store_deliveries",
]

#: Statuses after which a delivery is finished: applying it again would do nothing new (a held
#: one waits for an admin's decision on its removal, which settles it).
FINISHED = ("applied", "ignored", "held")


@dataclass(frozen=True, slots=True)
class StoredDeliveries:
    """What storing a body did: rows to apply now, and how many were duplicates."""

    to_apply: tuple[int, ...]
    duplicates: int


def store_deliveries(state: PcoState, deliveries: tuple[EventDelivery, ...]) -> StoredDeliveries:
    """Record each delivery once (the event id is unique); a failed one seen again is retried."""
    to_apply: list[int] = []
    duplicates = 0
    for delivery in deliveries:
        row_id = _insert(state, delivery)
        if row_id is not None:
            to_apply.append(row_id)
            continue
        duplicates += 1
        retry = _reopen_failed(state, delivery)
        if retry is not None:
            to_apply.append(retry)
    return StoredDeliveries(tuple(to_apply), duplicates)


def _insert(state: PcoState, delivery: EventDelivery) -> int | None:
    """The new row's id, or None when the event id is already stored (a duplicate)."""
    Delivery = state.models.WebhookDelivery
    session = state.db.session
    if session.scalar(select(Delivery.id).where(Delivery.event_id == delivery.event_id)):
        return None
    row = Delivery(
        event_id=delivery.event_id,
        name=delivery.name,
        attempt=delivery.attempt,
        organization_id=delivery.organization_id,
        resource_type=delivery.resource.type,
        resource_id=delivery.resource.id,
        event_time=delivery.event_time,
        payload=delivery.payload,
        status="received",
        received_at=utcnow(),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same event raced in on another worker
        session.rollback()
        return None
    return int(row.id)


def _reopen_failed(state: PcoState, delivery: EventDelivery) -> int | None:
    """A redelivery of an event we failed to apply gets another go; any other duplicate none."""
    Delivery = state.models.WebhookDelivery
    row = state.db.session.scalar(select(Delivery).where(Delivery.event_id == delivery.event_id))
    if row is None or row.status != "failed":
        return None
    row.status, row.attempt, row.error_message = "received", delivery.attempt, None
    state.db.session.commit()
    return int(row.id)


def stored_delivery(row: Any) -> EventDelivery:
    """Rebuild the parsed delivery from its stored row."""
    resource, _meta = parse_payload(row.payload)
    return EventDelivery(
        event_id=row.event_id,
        name=row.name,
        attempt=row.attempt,
        organization_id=row.organization_id,
        payload=row.payload,
        resource=resource,
        event_time=row.event_time,
    )


def apply_delivery(state: PcoState, delivery_id: int) -> str:
    """Apply one stored delivery and record the outcome on its row; return its final status.

    A database busy with another writer (SQLite locked, a PostgreSQL deadlock) is waited out
    (``retry_while_busy``). A failure is recorded on the row (``failed`` and the reason) and
    rolled back; a retriable one (PCO rate limit, timeout, a database that stayed busy) is
    raised again afterwards so an RQ job's retry can try later. ``retry_failed_deliveries`` and PCO's next delivery of the same event also try
    again. A finished delivery is not applied twice, so a job run twice is harmless.
    """
    session = state.db.session
    row = session.get(state.models.WebhookDelivery, delivery_id)
    if row is None:
        raise LookupError(f"no webhook delivery with id {delivery_id}")
    if row.status in FINISHED:
        return str(row.status)
    try:
        delivery = stored_delivery(row)
        return retry_while_busy(session, lambda: _apply_and_finish(state, delivery_id, delivery))
    except Exception as error:  # recorded on the row, never lost: the delivery can be retried
        session.rollback()
        note = f"{type(error).__name__}: {error}"
        retry_while_busy(session, lambda: _finish(state, delivery_id, "failed", note))
        if isinstance(error, PcoError) and error.retriable:
            raise
        return "failed"


def _apply_and_finish(state: PcoState, delivery_id: int, delivery: EventDelivery) -> str:
    """Apply and commit the changes with the status; a unique-index race is settled by retrying.

    Two workers applying events of one new person can both try to create it; the loser's
    second look finds the winner's row and updates it instead.
    """
    from flask_pco.sync.webhooks.handlers import apply_event

    try:
        return _finish(state, delivery_id, *apply_event(state, delivery, delivery_id))
    except IntegrityError:
        state.db.session.rollback()
        return _finish(state, delivery_id, *apply_event(state, delivery, delivery_id))


def apply_now(state: PcoState, delivery_id: int) -> str:
    """Apply in this process; a retriable failure stays recorded on the row for a later retry."""
    try:
        return apply_delivery(state, delivery_id)
    except PcoError:
        return "failed"


def _finish(
    state: PcoState, delivery_id: int, status: DeliveryStatus, note: str | None
) -> DeliveryStatus:
    row: Any = state.db.session.get(state.models.WebhookDelivery, delivery_id)
    row.status = status
    # The column holds why a delivery was ignored or failed; an applied one needs no reason.
    note = redact(note) if note else None
    row.error_message = note.splitlines()[0][:2000] if note and status != "applied" else None
    row.applied_at = utcnow()
    state.db.session.commit()
    return status


def retry_failed_deliveries(state: PcoState, *, stuck_after: int = 600, limit: int = 100) -> int:
    """Re-apply failed deliveries and ones stuck in ``received`` (a lost job), oldest first.

    For the nightly job; returns how many were applied this time.
    """
    Delivery = state.models.WebhookDelivery
    stuck = utcnow() - timedelta(seconds=stuck_after)
    rows = state.db.session.scalars(
        select(Delivery)
        .where(
            (Delivery.status == "failed")
            | ((Delivery.status == "received") & (Delivery.received_at < stuck))
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    ids = [row.id for row in rows]
    for row in rows:
        row.status = "received"
    state.db.session.commit()
    with people_batch():
        return sum(apply_now(state, delivery_id) == "applied" for delivery_id in ids)
