"""A full people pull that reads in full only the people who changed.

A full pull lists everyone, for two reasons: to apply what changed, and to learn who PCO no
longer has. After a first complete listing the second needs only each person's id and
``updated_at``, so the run asks for that (``fields[Person]=created_at,updated_at``, REFERENCE
§1.6: a 100-person page of a few kilobytes instead of ~480 KB with every include; ``created_at``
is the listing's order, which the paginator needs to restart the listing before PCO's throttled
deep offsets, past 30,000 people):

1. the people changed since the last pull started (``where[updated_at][gte]``, less
   ``PCO_INCREMENTAL_OVERLAP``), with their includes, applied as any pull applies them;
2. every person's version, in the same order and pages as a full listing. It makes the
   ``Listed`` set the removals are decided from, and any person whose version still differs
   from the one stored (a change the first listing missed, a row a sync left behind, one
   unlinked here) is read in full: one GET for one such person on a page, the page again
   with its includes for more.

Nothing depends on the cursor being right: the second listing compares every person with
what is stored. An unchanged church of 50,000 costs 501 small pages and one empty listing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import NotFoundError
from flask_pco.sync.context import SyncContext
from flask_pco.sync.pull.base import PageTally, changed_only, run_pages

if TYPE_CHECKING:
    from flask_pco.sync.pull.people import _PeopleListing

__all__ = ["PAGE_ORDER", "PEOPLE_PATH", "pull_by_versions"]

PEOPLE_PATH = "/people/v2/people"
#: Stable paging key: ``created_at`` does not move when a record is edited mid-run, so offset
#: paging cannot skip a record because another one was updated (REFERENCE §7.1).
PAGE_ORDER = "created_at"
#: More people of one page than this to read again: the page with includes, not one GET each.
_SINGLE_GETS = 1


def pull_by_versions(
    ctx: SyncContext, listing: _PeopleListing, cursor: datetime, includes: tuple[str, ...]
) -> None:
    """Apply who changed since ``cursor``, then list every version (see the module)."""
    since = cursor - timedelta(seconds=ctx.config.incremental_overlap)
    changed = ctx.client.pages(
        PEOPLE_PATH,
        include=includes,
        where={"updated_at": {"gte": since}},
        order=PAGE_ORDER,
        per_page=ctx.config.per_page,
    )
    run_pages(ctx, changed, listing.handle, progress=False)
    read = set(listing.listed.ids)
    versions = _Versions(ctx, listing, read, includes)
    pages = ctx.client.pages(
        PEOPLE_PATH,
        params={"fields": {"Person": f"{PAGE_ORDER},updated_at"}},
        order=PAGE_ORDER,
        per_page=ctx.config.per_page,
    )
    run_pages(ctx, pages, versions.handle)


class _Versions:
    """Notes each version page's people as listed and reads in full the stale ones."""

    def __init__(
        self, ctx: SyncContext, listing: _PeopleListing, read: set[str], includes: tuple[str, ...]
    ) -> None:
        self.ctx, self.listing, self.read, self.includes = ctx, listing, read, includes
        self.offset = 0

    def handle(self, document: Document, tally: PageTally) -> None:
        from flask_pco.sync.pull.people import page_versions

        offset, self.offset = self.offset, self.offset + len(document.data) + len(document.skipped)
        self.listing.listed.note(document)
        versions = page_versions(document)
        scratch = PageTally()  # who is unchanged was counted by the first listing's pages too
        stale = changed_only(
            self.ctx, "person", versions, scratch, self.listing.retry, self.listing.agreed_on
        )
        stale_ids = {v.pco_id for v in stale if v.pco_id not in self.read}
        if stale_ids:
            full = self._in_full(stale_ids, offset)
            for error in full.skipped:  # unreadable with its includes: said, as a listing does
                tally.issue("invalid", "record", str(error))
            self.listing.handle(full, tally)

    def _in_full(self, ids: set[str], offset: int) -> Document:
        """The people ``ids`` with their includes: the page again, or one GET each."""
        found: list[Document] = []
        if len(ids) > _SINGLE_GETS:
            page = self.ctx.client.get(PEOPLE_PATH, self._page_params(offset))
            kept = tuple(r for r in page.data if r.id in ids)
            found.append(replace(page, data=kept))
            ids = ids - {r.id for r in kept}
        for pco_id in sorted(ids):
            try:
                found.append(
                    self.ctx.client.get(
                        f"{PEOPLE_PATH}/{path_id(pco_id)}", {"include": ",".join(self.includes)}
                    )
                )
            except NotFoundError:
                continue  # deleted since it was listed: the next full pull misses it
        return _joined(found)

    def _page_params(self, offset: int) -> dict[str, object]:
        return {
            "include": ",".join(self.includes),
            "order": PAGE_ORDER,
            "per_page": self.ctx.config.per_page,
            "offset": offset,
        }


def _joined(documents: list[Document]) -> Document:
    """One document of several documents' records and included records."""
    if len(documents) == 1:
        return documents[0]
    data = tuple(r for d in documents for r in d.data)
    included = {key: r for d in documents for key, r in d.included.items()}
    skipped = tuple(error for d in documents for error in d.skipped)
    return Document(data=data, included=included, meta={}, links={}, skipped=skipped)
