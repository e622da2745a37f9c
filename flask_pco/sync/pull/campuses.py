"""``pull campuses``: PCO's campuses into the host's ``campus`` model, and the id map the
people pull uses to link each person to their primary campus.

Campuses are few, so the step reads them in one listing per run, before people (``FULL_ORDER``),
and the people pull then needs no request of its own for them: each page's campus ids are
turned into local ones with one small query (``campus_ids``; a campus made in PCO since costs
one listing, once a run). A campus PCO no longer lists is left as it is (its people keep
pointing at it until PCO moves them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.campuses import campus_from_resource
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.engine import step
from flask_pco.sync.pull.base import PageTally, run_pages
from flask_pco.sync.rows import merge_into, new_row, stamp

__all__ = ["CAMPUSES_PATH", "campus_ids", "pull_campuses"]

CAMPUSES_PATH = "/people/v2/campuses"


@step("pull", "campuses")
def pull_campuses(ctx: SyncContext) -> None:
    """Pull PCO's campuses into the ``campus`` model."""
    pages = ctx.client.pages(CAMPUSES_PATH, per_page=ctx.config.per_page)
    run_pages(ctx, pages, lambda document, tally: _apply_page(ctx, document, tally))
    ctx.memo[_LISTED] = True


#: Set in ``ctx.memo`` once this run has read PCO's campuses.
_LISTED = "campuses_listed"


def _apply_page(ctx: SyncContext, document: Document, tally: PageTally) -> None:
    Campus = ctx.roles.model("campus")
    pco_ids = [resource.id for resource in document.data]
    existing = {
        row.pco_id: row
        for row in ctx.session.scalars(select(Campus).where(Campus.pco_id.in_(pco_ids)))
    }
    for resource in document.data:
        try:
            campus = campus_from_resource(resource)
        except DocumentError as error:
            tally.issue("invalid", "Campus", str(error), pco_id=resource.id)
            continue
        tally.count(_upsert(ctx, existing.get(campus.pco_id), campus.pco_id, campus.values()))


def _upsert(ctx: SyncContext, row: Any, pco_id: str, values: dict[str, Any]) -> Outcome:
    if row is None:
        stamp(new_row(ctx, "campus", values, pco_id=pco_id), pco_id)
        return "created"
    if merge_into(ctx, row, "campus", values):
        stamp(row, pco_id)
        return "updated"
    return "unchanged"


def campus_ids(ctx: SyncContext, pco_ids: set[str]) -> dict[str, int]:
    """PCO campus id → the local campus's id, for the ids given (one query; none without a
    campus model).

    A campus not here yet (made in PCO since the last ``pull campuses``, or a ``pull people``
    run on its own) has the campuses read once for the run, within the page being written:
    a person applied now is not read again until PCO changes them, so their link must not
    wait for a later run.
    """
    wanted = {pco_id for pco_id in pco_ids if pco_id}
    if not wanted or not ctx.roles.has("campus"):
        return {}
    found = _local_ids(ctx, wanted)
    if len(found) < len(wanted) and not ctx.memo.get(_LISTED):
        ctx.memo[_LISTED] = True
        for document in ctx.client.pages(CAMPUSES_PATH, per_page=ctx.config.per_page):
            _apply_page(ctx, document, PageTally())  # counted by the people, not as campuses
        found = _local_ids(ctx, wanted)
    return found


def _local_ids(ctx: SyncContext, wanted: set[str]) -> dict[str, int]:
    Campus = ctx.roles.model("campus")
    query = select(Campus.pco_id, Campus.id).where(Campus.pco_id.in_(wanted))
    return {pco_id: row_id for pco_id, row_id in ctx.session.execute(query)}
