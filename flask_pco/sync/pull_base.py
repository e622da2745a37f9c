"""What every pull step shares: the page loop, the per-page commit, and the ownership merge.

A page is the unit of work. Its records are applied, then committed together (or rolled back
in a dry run), and only then are its counts and issues recorded: a run killed at any point
leaves whole pages, and the next run redoes at most the one it was in, matching by ``pco_id``
what it had already created. If the commit fails on a unique index (a webhook linked the same
PCO record meanwhile), the page is rolled back and applied once more against fresh rows.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from ..client.jsonapi import Document
from ..exceptions import DocumentError, NotFoundError, ValidationError
from ..models import utcnow
from .policy import PCO_OWNED, comparable, merge, record_conflicts
from .runs import SyncContext

__all__ = [
    "PageTally",
    "insert_rows",
    "merge_into",
    "new_row",
    "refresh_statistics",
    "run_pages",
    "set_fields",
    "skippable_pages",
    "stamp",
    "touch",
]

#: Outcomes the sync log counts; ``unchanged`` and ``held`` are not counted as writes.
COUNTED = ("created", "updated")


@dataclass
class PageTally:
    """Outcomes and issues of one page, kept until the page is committed."""

    outcomes: Counter[str] = field(default_factory=Counter)
    issues: list[tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] += n

    def issue(self, kind: str, resource_type: str, reason: str, **details: Any) -> None:
        """Same signature as ``RunReporter.issue``."""
        self.issues.append(((kind, resource_type, reason), details))

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
        ctx.report.checkpoint(force=True)


def prefetched(pages: Iterable[Document]) -> Iterator[Document]:
    """The same pages, the next one fetched while the current one is written.

    PCO's answer time and our database time then overlap instead of adding up; at most two
    pages are held, so memory stays flat. An error while fetching is raised here, in order.
    """
    box: queue.Queue[tuple[Document | None, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[Document | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
            put((None, None))
        except BaseException as error:  # handed to the consumer, which raises it
            put((None, error))

    worker = threading.Thread(target=produce, name="pco-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            page, error = box.get()
            if error is not None:
                raise error
            if page is None:
                return
            yield page
    finally:
        stop.set()


def _apply_page(ctx: SyncContext, document: Document, handle: PageHandler) -> PageTally:
    for attempt in (1, 2):
        tally = PageTally()
        try:
            handle(document, tally)
            ctx.session.commit()  # a dry run's session is a scratch copy (``dry_run``)
            return tally
        except IntegrityError:
            ctx.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


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


def set_fields(row: Any, role: str, values: Mapping[str, Any], ctx: SyncContext) -> bool:
    """Write logical fields onto a host row (those it has a column for); True if any changed."""
    changed = False
    for name, value in ctx.roles.known(role, values).items():
        column = ctx.roles.column(role, name)
        if comparable(getattr(row, column, None)) != comparable(value):
            setattr(row, column, value)
            changed = True
    return changed


def new_row(ctx: SyncContext, role: str, values: Mapping[str, Any], **extra: Any) -> Any:
    """A new host row of ``role`` with PCO's values, agreed with PCO from the start."""
    model = ctx.roles.model(role)
    row = model(**ctx.roles.columns(role, values), **extra)
    remember_pco_values(row, ctx.roles.known(role, values))
    ctx.session.add(row)
    return row


def merge_into(
    ctx: SyncContext,
    row: Any,
    role: str,
    pco_values: Mapping[str, Any],
    base: Mapping[str, Any] | None = None,
) -> bool:
    """Pull PCO's values into ``row`` under the ownership policy; True if the row changed.

    Fields only PCO changed are taken; fields only the site changed are left for push; fields
    both changed take PCO's value and leave a ``Conflict`` row. The snapshot then records PCO's
    values, not the row's: a local edit still waiting for push must still differ from it.
    """
    fields = tuple(
        f
        for f in PCO_OWNED.get(role, tuple(pco_values))
        if f in pco_values and ctx.roles.present(role, f)
    )
    local = {f: comparable(getattr(row, ctx.roles.column(role, f), None)) for f in fields}
    result = merge(row.pco_snapshot if base is None else base, local, pco_values, fields)
    record_conflicts(ctx, role, row, result.conflicts)
    changed = set_fields(row, role, result.to_local, ctx)
    remember_pco_values(row, {f: pco_values[f] for f in fields})
    return changed


def remember_pco_values(row: Any, values: Mapping[str, Any]) -> None:
    """Record PCO's side in the snapshot (a new dict, so the JSON column sees the change)."""
    snapshot = dict(row.pco_snapshot or {})
    snapshot.update({k: comparable(v) for k, v in values.items()})
    if snapshot != (row.pco_snapshot or None):
        row.pco_snapshot = snapshot


def stamp(row: Any, pco_id: str, updated_at: Any = None) -> None:
    """Link ``row`` to its PCO record and note when they last agreed (rows that changed)."""
    if row.pco_id != pco_id:
        row.pco_id = pco_id
    if updated_at is not None and row.pco_updated_at != updated_at:
        row.pco_updated_at = updated_at
    row.pco_synced_at = utcnow()


def touch(ctx: SyncContext, role: str, ids: Sequence[int]) -> None:
    """Note that unchanged rows still agree with PCO: one UPDATE for the page, not one per row."""
    if not ids:
        return
    model = ctx.roles.model(role)
    ctx.session.execute(
        update(model)
        .where(model.id.in_(ids))
        .values(pco_synced_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def insert_rows(ctx: SyncContext, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (attribute names as keys) in one executemany, bypassing the ORM's units.

    The driver runs one short statement per row: psycopg sends them all in one pipeline and
    sqlite3 reuses one prepared statement. That is cheaper than one multi-row statement (what
    RETURNING would need), which has a placeholder per value and which psycopg parses in
    Python on every call: on PostgreSQL, the largest single cost of a first pull.
    """
    mapper = sa_inspect(model)
    column = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
    params = [{column[k].key: v for k, v in row.items()} for row in rows]
    ctx.session.execute(insert(mapper.local_table), params)


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
