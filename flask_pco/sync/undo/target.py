"""What an undo reverts: the journal entries of one finished run (its steps' too) or of one
webhook delivery, refused with a clear reason when there is nothing an undo could do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["Target", "check_undoable", "find_target"]

#: Statuses of a run that has not finished: nothing it did is final yet.
_UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class Target:
    """The run or delivery to revert; its journal entries are read a page at a time.

    A 50,000-person first pull has ~200,000 entries, each with the values it wrote: holding
    them all would grow the undo's memory with the run, so only their count and what the
    preview and PCO look-ups need are read up front.
    """

    #: ``run 12`` or ``delivery 5``: how messages name it.
    name: str
    #: The journal entry model and the condition selecting the target's entries (a SQL
    #: expression: never compared, its ``==`` builds SQL).
    model: Any = field(compare=False)
    condition: Any = field(compare=False)
    #: How many entries it has.
    total: int
    #: When it started: PCO records changed since then are read in one listing.
    started_at: datetime | None
    #: (record type, PCO id) of what it created in PCO: an undo deletes those only on request.
    created_in_pco: set[tuple[str, str]] = field(default_factory=set)
    #: The run and its steps (empty for a delivery), or the delivery: whose removals they are.
    run_ids: tuple[int, ...] = ()
    delivery_id: int | None = None

    def newest_first(self, session: Any, size: int) -> Iterator[list[Any]]:
        """The entries, newest first, ``size`` at a time (keyset on the id: entries the undo
        itself journals belong to another run and never enter the pages)."""
        before: int | None = None
        while True:
            query = select(self.model).where(self.condition)
            if before is not None:
                query = query.where(self.model.id < before)
            page = list(session.scalars(query.order_by(self.model.id.desc()).limit(size)))
            if not page:
                return
            _detach(page)
            yield page
            if len(page) < size:
                return  # the oldest page: no need to ask for an empty one
            before = page[-1].id

    def entries_where(self, session: Any, *conditions: Any) -> list[Any]:
        """The entries that also meet ``conditions``, oldest first (a few kinds, read whole)."""
        query = select(self.model).where(self.condition, *conditions).order_by(self.model.id)
        entries = list(session.scalars(query))
        _detach(entries)
        return entries


def check_undoable(
    state: PcoState, *, run_id: int | None = None, delivery_id: int | None = None
) -> Target:
    """The target of an undo, or a ``ConfigError`` saying why it cannot be undone."""
    return find_target(state, state.db.session, run_id=run_id, delivery_id=delivery_id)


def find_target(
    state: PcoState, session: Any, *, run_id: int | None = None, delivery_id: int | None = None
) -> Target:
    """Read the target from ``session`` (a dry run's scratch copy, or the app's)."""
    if (run_id is None) == (delivery_id is None):
        raise ConfigError("undo needs one run id or one webhook delivery id")
    if run_id is not None:
        return _run_target(state, session, run_id)
    return _delivery_target(state, session, int(delivery_id or 0))


def _run_target(state: PcoState, session: Any, run_id: int) -> Target:
    SyncRun, Entry = state.models.SyncRun, state.models.JournalEntry
    run = session.get(SyncRun, run_id)
    if run is None:
        raise ConfigError(f"no run with id {run_id}")
    if run.dry_run:
        raise ConfigError(
            f"run {run_id} is a dry run: it changed nothing, so there is nothing to undo"
        )
    if run.status in _UNFINISHED:
        raise ConfigError(
            f"run {run_id} is still {run.status}: wait for it to finish (or cancel it) first"
        )
    steps = list(session.scalars(select(SyncRun.id).where(SyncRun.parent_id == run_id)))
    target = _target(
        session, f"run {run_id}", Entry, Entry.run_id.in_([run_id, *steps]), run.started_at
    )
    if not target.total:
        raise ConfigError(
            f"run {run_id} has no journal entries: it changed nothing, or its entries were "
            f"pruned (PCO_JOURNAL_DAYS={state.config.journal_days})"
        )
    if target.started_at is None:
        target = replace(target, started_at=run.queued_at)
    return replace(target, run_ids=(run_id, *steps))


def _delivery_target(state: PcoState, session: Any, delivery_id: int) -> Target:
    Delivery, Entry = state.models.WebhookDelivery, state.models.JournalEntry
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise ConfigError(f"no webhook delivery with id {delivery_id}")
    condition = Entry.delivery_id == delivery_id
    target = _target(session, f"delivery {delivery_id}", Entry, condition, delivery.received_at)
    if not target.total:
        raise ConfigError(
            f"webhook delivery {delivery_id} has no journal entries: it changed nothing, or "
            f"its entries were pruned (PCO_JOURNAL_DAYS={state.config.journal_days})"
        )
    return replace(target, delivery_id=delivery_id)


def _target(
    session: Any, name: str, Entry: Any, condition: Any, started_at: datetime | None
) -> Target:
    total = session.scalar(select(func.count()).select_from(Entry).where(condition)) or 0
    created = session.execute(
        select(Entry.record_type, Entry.pco_id).where(
            condition, Entry.side == "pco", Entry.action == "create", Entry.pco_id.is_not(None)
        )
    )
    return Target(
        name, Entry, condition, int(total), started_at, {(t, str(i)) for t, i in created if i}
    )


def _detach(entries: list[Any]) -> None:
    """Read once: the undo's commits must not expire (and re-read) them."""
    for entry in entries:
        object_session(entry).expunge(entry)  # type: ignore[union-attr]
