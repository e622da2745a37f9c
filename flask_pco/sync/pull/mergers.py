"""PCO's merges, applied the same way whichever path brings them.

Staff merging two duplicates in PCO delete one profile and keep the other. A pull that did not
know would deactivate the removed person and create the kept one as a new local person: two
rows for one human, with the site's data (allergies, check-ins) on the inactive one. So every
pull of people first reads the PersonMergers PCO recorded since the ``person_mergers`` cursor
(one request when there were none), and the ``person_merger.created`` webhook goes through the
same ``apply_merger``:

* only the removed profile is local: its row is relinked to the kept profile and brought in line
  with it (one re-fetch), so the local person stays one row with all its data;
* both are local: the row of the removed profile is merged into the kept one's
  (``sync/merges.py``), or, with ``PCO_AUTO_MERGE`` off, deactivated and held for an admin
  (``flask pco merge ISSUE_ID``);
* otherwise there is nothing local to change.

Applying a merge twice changes nothing, so a merge met by a webhook and again by a pull (or in
the overlap of two pulls) is harmless.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import is_pco_id
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.mergers import PersonMergerData, merger_from_resource
from flask_pco.models import DeliveryStatus, utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.cursors import advance_cursor, read_cursor
from flask_pco.sync.journal import record
from flask_pco.sync.merges import HELD_MERGE, drop_cascaded_memberships, merge_rows
from flask_pco.sync.pull.people import deactivate_person, refresh_person

__all__ = ["CURSOR", "MergeOutcome", "apply_merger", "pull_mergers"]

#: The cursor of the merges read so far.
CURSOR = "person_mergers"
PATH = "/people/v2/person_mergers"
#: What applying one merge did: ``applied`` or ``ignored``, and a note an admin can read.
MergeOutcome = tuple[DeliveryStatus, str]


def pull_mergers(ctx: SyncContext) -> None:
    """Apply every merge PCO recorded since the cursor, oldest first, then move the cursor.

    With no cursor yet and no linked person there is nothing a merge could change, so nothing
    is asked: the listing that follows shows PCO as it is now.
    """
    started = utcnow()
    cursor = read_cursor(ctx, CURSOR)
    if cursor is not None or _any_linked(ctx):
        since = cursor - timedelta(seconds=ctx.config.incremental_overlap) if cursor else None
        pages = ctx.client.pages(
            PATH,
            where={"created_at": {"gte": since}} if since else None,
            order="created_at",
            per_page=ctx.config.per_page,
        )
        for document in pages:
            for resource in document.data:
                _apply_listed(ctx, resource)
    advance_cursor(ctx, CURSOR, started)


def _apply_listed(ctx: SyncContext, resource: Any) -> None:
    try:
        merger = merger_from_resource(resource)
    except DocumentError as error:
        ctx.report.issue("invalid", "PersonMerger", str(error), pco_id=resource.id)
        return
    status, _ = apply_merger(ctx, merger)
    if status == "applied":
        ctx.report.count("updated")
    ctx.session.commit()


def apply_merger(ctx: SyncContext, merger: PersonMergerData) -> MergeOutcome:
    """Apply one merge to the local rows; the caller commits. Ids that are not PCO ids are
    refused before anything is asked of PCO."""
    for pco_id in (merger.keep_id, merger.remove_id):
        if not is_pco_id(pco_id):
            return "ignored", f"{pco_id[:40]!r} is not a PCO person id; nothing was asked of PCO"
    removed = _linked(ctx, merger.remove_id)
    if removed is None:
        return "ignored", f"no local person is linked to the removed PCO person {merger.remove_id}"
    kept = _linked(ctx, merger.keep_id)
    if kept is None:
        return _relink(ctx, removed, merger)
    if removed.pco_merged_into is not None:
        return "ignored", f"local person {removed.id} was merged into {removed.pco_merged_into}"
    if not ctx.config.auto_merge:
        return _hold(ctx, kept, removed, merger)
    note = merge_rows(ctx, kept, removed, _reason(merger))
    refresh_person(ctx, merger.keep_id)  # the contacts PCO moved come along
    return "applied", note


def _relink(ctx: SyncContext, row: Any, merger: PersonMergerData) -> MergeOutcome:
    """Only the removed profile was local: its row becomes the kept profile's."""
    record(ctx, "person", "link", row=row, old=row.pco_id, new=merger.keep_id)
    row.pco_id, row.pco_updated_at = merger.keep_id, None
    row.pco_misses, row.pco_removed_at, row.pco_removed_run = 0, None, None
    drop_cascaded_memberships(ctx, row)  # PCO deleted the removed profile's memberships
    refresh_person(ctx, merger.keep_id)
    return (
        "applied",
        f"local person {row.id} relinked from PCO {merger.remove_id} to {merger.keep_id}",
    )


def _hold(ctx: SyncContext, kept: Any, removed: Any, merger: PersonMergerData) -> MergeOutcome:
    """The site merges by hand: the removed profile's row is deactivated (PCO deleted it) and
    an admin carries the merge out."""
    deactivate_person(ctx, merger.remove_id, f"merged in PCO into PCO person {merger.keep_id}")
    ctx.report.issue(
        HELD_MERGE,
        "Person",
        f"merged in PCO: PCO person {merger.remove_id} was merged into {merger.keep_id}; local "
        f"person {removed.id} was deactivated and kept with its data, local person {kept.id} "
        "holds the kept profile",
        pco_id=merger.remove_id,
        local_id=removed.id,
        candidates=[kept.id],
    )
    return "applied", f"both profiles exist locally: person {removed.id} held for an admin"


def _reason(merger: PersonMergerData) -> str:
    return f"PCO person {merger.remove_id} was merged into {merger.keep_id} in PCO"


def _linked(ctx: SyncContext, pco_id: str) -> Any | None:
    Person = ctx.roles.model("person")
    return ctx.session.scalar(select(Person).where(Person.pco_id == pco_id))


def _any_linked(ctx: SyncContext) -> bool:
    Person = ctx.roles.model("person")
    query = select(Person.id).where(Person.pco_id.is_not(None)).limit(1)
    return ctx.session.scalar(query) is not None
