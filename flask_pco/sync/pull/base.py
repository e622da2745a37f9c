"""What every pull step shares: the page loop, the per-page commit, and the ownership merge.

A page is the unit of work. Its records are applied, then committed together (or rolled back
in a dry run), and only then are its counts and issues recorded: a run killed at any point
leaves whole pages, and the next run redoes at most the one it was in, matching by ``pco_id``
what it had already created. If the commit fails on a unique index (a webhook linked the same
PCO record meanwhile), the page is rolled back and applied once more against fresh rows.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import DocumentError, NotFoundError, ValidationError
from flask_pco.models import Outcome
from flask_pco.sync.context import SyncContext
from flask_pco.sync.rows import not_written

__all__ = [
    "PageTally",
    "changed_only",
    "refresh_statistics",
    "run_pages",
    "skippable_pages",
]

#: Outcomes the sync log counts; ``unchanged`` and ``held`` are not counted as writes.
COUNTED: tuple[Outcome, ...] = ("created", "updated")


@dataclass
class PageTally:
    """Outcomes and issues of one page, kept until the page is committed."""

    outcomes: Counter[Outcome] = field(default_factory=Counter)
    issues: list[tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def count(self, outcome: Outcome, n: int = 1) -> None:
        self.outcomes[outcome] += n

    def issue(self, kind: str, resource_type: str, reason: str, **details: Any) -> None:
        """Same signature as ``RunReporter.issue``."""
        self.issues.append(((kind, resource_type, reason), details))

    def add(self, other: PageTally) -> None:
        self.outcomes.update(other.outcomes)
        self.issues.extend(other.issues)

    def record(self, ctx: SyncContext) -> None:
        for outcome in COUNTED:
            if self.outcomes[outcome]:
                ctx.report.count(outcome, self.outcomes[outcome])
        for args, details in self.issues:
            ctx.report.issue(*args, **details)


PageHandler = Callable[[Document, PageTally], None]


@dataclass
class Listed:
    """Whom a full listing returned: after it, a linked row whose PCO id is not here is gone."""

    #: Ids PCO listed, malformed records included: they are not gone, only unreadable.
    ids: set[str] = field(default_factory=set)
    #: Records without a usable id: who they are is unknown, so nobody may be taken for gone.
    unreadable: int = 0

    def note(self, document: Document) -> None:
        self.ids.update(resource.id for resource in document.data)
        self.unreadable += len(document.skipped)

    @property
    def complete(self) -> bool:
        """Every record read, and some at all: an empty listing is far likelier a broken one
        than a church without any."""
        return bool(self.ids) and not self.unreadable


def run_pages(
    ctx: SyncContext, pages: Iterable[Document], handle: PageHandler, *, progress: bool = True
) -> None:
    """Apply every page with ``handle``, committing each one.

    The listing's records count towards the run's progress (PCO's ``total_count`` is the
    total) unless ``progress`` is False: a step that counts its own units instead.
    """
    for page, document in enumerate(prefetched(pages)):
        if progress:
            if page == 0:
                ctx.report.expect(document.total_count)
            ctx.report.advance(len(document.data) + len(document.skipped))
        tally = _apply_page(ctx, document, handle)
        for error in document.skipped:
            tally.issue("invalid", "record", str(error))
        tally.record(ctx)
        # The page is committed; its counts reach the run row at most every ``PAGE_FLUSH``
        # seconds, not with one more commit a page; its issues at once.
        ctx.report.between_pages(force=bool(tally.issues))


#: How long after a record's PCO ``updated_at`` it must have been applied here for an equal
#: ``updated_at`` to prove it unchanged (whole-second timestamps, clock skew, a page fetched
#: a while before it was written).
SETTLED_AFTER = timedelta(minutes=5)


class Versioned(Protocol):
    """A parsed PCO record: its id and PCO's ``updated_at`` (naive UTC)."""

    @property
    def pco_id(self) -> str: ...

    @property
    def updated_at(self) -> Any: ...


VersionedRecord = TypeVar("VersionedRecord", bound=Versioned)


def changed_only(
    ctx: SyncContext,
    role: str,
    records: Sequence[VersionedRecord],
    tally: PageTally,
    retry: Collection[str] = (),
    agreed_on: Collection[str] = (),
) -> list[VersionedRecord]:
    """The records of a page that may change something here; the others count ``unchanged``.

    A record whose PCO ``updated_at`` equals the one stored on its linked row was applied at
    that version already, so loading, merging and flushing it again would change nothing (PCO
    moves a person's ``updated_at`` when one of their emails, phones or addresses changes, too).
    One query per page reads the stored versions instead. Still applied: a record with no
    ``updated_at``, one not linked here, one a complete listing missed or a sync removed (the
    removal rules restore it), those in ``retry`` (a record an earlier run could not write),
    and one applied less than ``SETTLED_AFTER`` after its ``updated_at``: PCO's timestamps
    have whole seconds, so an edit made in the same second as the version applied carries the
    same ``updated_at`` (and the two clocks may disagree a little). ``agreed_on``: fields each
    row's snapshot must hold; a row without one (a custom field the site mapped since) is
    applied, so a new mapping fills in without waiting for PCO to change everyone.
    """
    stamped = [r.pco_id for r in records if r.updated_at is not None and r.pco_id not in retry]
    if not stamped:
        return list(records)
    model = ctx.roles.model(role)
    columns = [model.pco_id, model.pco_updated_at, model.pco_synced_at]
    columns += [model.pco_snapshot] if agreed_on else []
    query = select(*columns).where(
        model.pco_id.in_(stamped), model.pco_misses == 0, model.pco_removed_at.is_(None)
    )
    applied = {
        row[0]: row[1]
        for row in ctx.session.execute(query)
        if row[1] is not None
        and row[2] is not None
        and row[2] - row[1] >= SETTLED_AFTER
        and (not agreed_on or all(name in (row[3] or {}) for name in agreed_on))
    }
    changed = [r for r in records if r.updated_at is None or applied.get(r.pco_id) != r.updated_at]
    if len(changed) < len(records):
        tally.count("unchanged", len(records) - len(changed))
    return changed


def prefetched(pages: Iterable[Document]) -> Iterator[Document]:
    """The same pages, the next one fetched while the current one is written.

    PCO's answer time and our database time then overlap instead of adding up; at most two
    pages are held, so memory stays flat. An error while fetching is raised here, in order.
    """
    iterator = iter(pages)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pco-prefetch")
    # The fetching thread logs as the run does (its run id and organisation: logfields).
    context = contextvars.copy_context()

    def fetch() -> Document | None:
        return context.run(next, iterator, None)

    try:
        ahead = pool.submit(fetch)
        while (page := ahead.result()) is not None:
            ahead = pool.submit(fetch)
            yield page
    finally:
        # A stopped run does not wait for the page in flight; the thread ends with its fetch.
        pool.shutdown(wait=False, cancel_futures=True)


#: What the database says when it refuses a record: a value it cannot hold (too long, out of
#: range), or one of the site's own constraints (a CHECK, a unique column it added).
REFUSED = (DataError, IntegrityError)


def _apply_page(ctx: SyncContext, document: Document, handle: PageHandler) -> PageTally:
    """Apply and commit one page; when the database refuses a record in it, apply its records
    one by one so only the refused one is skipped, with the database's reason."""
    try:
        return _apply_records(ctx, document, handle)
    except REFUSED:
        ctx.session.rollback()
    tally = PageTally()
    for resource in document.data:
        try:
            tally.add(_apply_records(ctx, replace(document, data=(resource,)), handle))
        except REFUSED as error:
            ctx.session.rollback()
            tally.issue("invalid", resource.type, not_written(error), pco_id=resource.id)
    return tally


def _apply_records(ctx: SyncContext, document: Document, handle: PageHandler) -> PageTally:
    """Apply and commit ``document``; a unique-index race (a webhook linked the same record
    meanwhile) rolls it back and applies it once more against fresh rows."""
    retrying = Retrying(
        retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(2), reraise=True
    )
    for attempt in retrying:
        with attempt:
            tally = PageTally()
            try:
                handle(document, tally)
                ctx.session.commit()  # a dry run's session is a scratch copy (``dry_run``)
            except IntegrityError:
                ctx.session.rollback()
                raise
    return tally


def skippable_pages(
    ctx: SyncContext, path: str, resource_type: str, **options: Any
) -> Iterator[Document]:
    """Pages of a sub-listing; a 404 or 422 on it is recorded as skipped and the run goes on.

    The refusal travels as an empty page whose ``skipped`` holds the reason and whose
    ``meta["refused"]`` is set: pages may be fetched on another thread, which must not touch
    the database session.
    """
    try:
        yield from ctx.client.pages(path, per_page=ctx.config.per_page, **options)
    except (NotFoundError, ValidationError) as error:
        reason = DocumentError(f"{resource_type} listing {path} refused: {error}")
        yield Document(data=(), included={}, meta={"refused": True}, links={}, skipped=(reason,))


#: Pages after which PostgreSQL's planner statistics are refreshed during a pull.
STATISTICS_AFTER_PAGES = frozenset({4, 16, 64, 256, 1024})


def refresh_statistics(ctx: SyncContext, roles: Sequence[str], page: int) -> None:
    """ANALYZE the tables a pull is filling, at a few growing page counts, on PostgreSQL.

    Autovacuum's statistics lag a bulk load: a table PostgreSQL still believes empty is
    scanned instead of searched through its ``pco_id`` index, and a first sync of 50,000
    people turns quadratic. SQLite picks its indexes without statistics.
    """
    if page not in STATISTICS_AFTER_PAGES or ctx.session.get_bind().dialect.name != "postgresql":
        return
    for role in roles:
        if ctx.roles.has(role):
            table = sa_inspect(ctx.roles.model(role)).local_table
            ctx.session.execute(text(f'ANALYZE "{table.name}"'))
