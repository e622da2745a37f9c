"""``pull events`` and ``pull locations``: read-only PCO records mirrored into local tables.

Calendar event instances (each occurrence is one local event, named after its Event) and
Check-Ins locations are pull only: PCO's API cannot write them, and the site only needs them
to attach its own check-ins to. Events are read from now on (``filter=future``): past
occurrences keep what they had.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.calendar import event_from_instance, location_from_resource
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.engine import step
from flask_pco.sync.pull.base import PageTally, run_pages
from flask_pco.sync.rows import merge_into, new_row, stamp

__all__ = ["pull_events", "pull_locations"]


@step("pull", "events")
def pull_events(ctx: SyncContext) -> None:
    """Pull upcoming Calendar event instances into ``events``."""
    pages = ctx.client.pages(
        "/calendar/v2/event_instances",
        include=("event",),
        filter="future",
        order="starts_at",
        per_page=ctx.config.per_page,
    )
    run_pages(ctx, pages, _handler(ctx, "event", lambda r, d: event_from_instance(r, d)))


@step("pull", "locations")
def pull_locations(ctx: SyncContext) -> None:
    """Pull Check-Ins locations into ``locations``."""
    pages = ctx.client.pages("/check-ins/v2/locations", per_page=ctx.config.per_page)
    run_pages(ctx, pages, _handler(ctx, "location", lambda r, _d: location_from_resource(r)))


def _handler(
    ctx: SyncContext, role: str, mapper: Callable[[Resource, Document], Any]
) -> Callable[[Document, PageTally], None]:
    model = ctx.roles.model(role)

    def handle(document: Document, tally: PageTally) -> None:
        rows = ctx.session.scalars(
            select(model).where(model.pco_id.in_([r.id for r in document.data]))
        )
        existing = {row.pco_id: row for row in rows}
        for resource in document.data:
            try:
                data = mapper(resource, document)
            except DocumentError as error:
                tally.issue("invalid", resource.type, str(error), pco_id=resource.id)
                continue
            values = {k: v for k, v in vars_of(data).items() if k != "pco_id"}
            tally.count(_upsert(ctx, role, existing.get(data.pco_id), data.pco_id, values))

    return handle


def _upsert(ctx: SyncContext, role: str, row: Any, pco_id: str, values: dict[str, Any]) -> Outcome:
    if row is None:
        stamp(new_row(ctx, role, values, pco_id=pco_id), pco_id)
        return "created"
    if merge_into(ctx, row, role, values):
        stamp(row, pco_id)
        return "updated"
    return "unchanged"


def vars_of(data: Any) -> dict[str, Any]:
    return {name: getattr(data, name) for name in data.__slots__}
