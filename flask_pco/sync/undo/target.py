"""What an undo reverts: the journal entries of one finished run (its steps' too) or of one
webhook delivery, refused with a clear reason when there is nothing an undo could do."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["Target", "check_undoable", "find_target"]

#: Statuses of a run that has not finished: nothing it did is final yet.
_UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class Target:
    """The run or delivery to revert, and its journal entries in the order they were made."""

    #: ``run 12`` or ``delivery 5``: how messages name it.
    name: str
    entries: list[Any]
    #: When it started: PCO records changed since then are read in one listing.
    started_at: datetime | None
    #: (record type, PCO id) of what it created in PCO: an undo deletes those only on request.
    created_in_pco: set[tuple[str, str]] = field(default_factory=set)
    #: The run and its steps (empty for a delivery), or the delivery: whose removals they are.
    run_ids: tuple[int, ...] = ()
    delivery_id: int | None = None


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
    query = select(Entry).where(Entry.run_id.in_([run_id, *steps])).order_by(Entry.id)
    entries = list(session.scalars(query))
    if not entries:
        raise ConfigError(
            f"run {run_id} has no journal entries: it changed nothing, or its entries were "
            f"pruned (PCO_JOURNAL_DAYS={state.config.journal_days})"
        )
    target = _target(f"run {run_id}", entries, run.started_at or run.queued_at)
    return replace(target, run_ids=(run_id, *steps))


def _delivery_target(state: PcoState, session: Any, delivery_id: int) -> Target:
    Delivery, Entry = state.models.WebhookDelivery, state.models.JournalEntry
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise ConfigError(f"no webhook delivery with id {delivery_id}")
    query = select(Entry).where(Entry.delivery_id == delivery_id).order_by(Entry.id)
    entries = list(session.scalars(query))
    if not entries:
        raise ConfigError(
            f"webhook delivery {delivery_id} has no journal entries: it changed nothing, or "
            f"its entries were pruned (PCO_JOURNAL_DAYS={state.config.journal_days})"
        )
    target = _target(f"delivery {delivery_id}", entries, delivery.received_at)
    return replace(target, delivery_id=delivery_id)


def _target(name: str, entries: list[Any], started_at: datetime | None) -> Target:
    for entry in entries:  # read once: the undo's commits must not expire (and re-read) them
        object_session(entry).expunge(entry)  # type: ignore[union-attr]
    created = {
        (e.record_type, str(e.pco_id))
        for e in entries
        if e.side == "pco" and e.action == "create" and e.pco_id
    }
    return Target(name, entries, started_at, created)
