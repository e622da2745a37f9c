"""A dry run's plan: the journal entries it made on its scratch database, kept and shown.

A dry run is the real run on a scratch copy (``dry_run``), so the entries it journals there are
exactly what the real run would journal on the same data. ``save_plan`` copies them to
``pco_plan`` before the scratch is thrown away, each person named as the scratch had them (a
person the run would create exists nowhere else). The CLI prints the first of them as diffs and
writes them all as JSON; the admin page pages through them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy import inspect as sa_inspect

from flask_pco.exceptions import ConfigError
from flask_pco.role_fields import ROLE_FIELDS
from flask_pco.sync.history import labels, run_changes

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "KEPT_PLANS",
    "Plan",
    "PlanOutcome",
    "comparable_changes",
    "compare_with_run",
    "plan_changes",
    "plan_names",
    "plan_record",
    "save_plan",
    "side_by_side",
]

#: How many dry runs' plans are kept; an older plan is stale by the time a newer one exists.
KEPT_PLANS = 20
#: Entries read from the scratch and written here per batch (a first pull plans thousands).
_BATCH = 2000
#: The columns a plan entry copies from a journal entry.
_COPIED = (
    "side",
    "record_type",
    "local_id",
    "pco_id",
    "action",
    "field",
    "old_value",
    "new_value",
    "created_at",
)


def save_plan(state: PcoState, run: Any, scratch: Any) -> int:
    """Copy the dry run ``run``'s journal entries (its steps' too) from ``scratch``; how many."""
    SyncRun, Entry = state.models.SyncRun, state.models.JournalEntry
    session = state.db.session
    steps = session.scalars(select(SyncRun.id).where(SyncRun.parent_id == run.id))
    query = select(Entry).where(Entry.run_id.in_([run.id, *steps])).order_by(Entry.id)
    table = sa_inspect(state.models.PlanEntry).local_table
    saved = 0
    # Streamed: a first pull of a large church plans a change per person and contact.
    for batch in _batches(scratch.scalars(query.execution_options(yield_per=_BATCH))):
        names = labels(state, batch, session=scratch)
        rows = [_plan_row(run.id, entry, names) for entry in batch]
        session.execute(insert(table), rows)
        saved += len(rows)
    _prune(state)
    session.commit()
    return saved


def _batches(entries: Any) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _plan_row(run_id: int, entry: Any, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in _COPIED}
    row |= {"run_id": run_id, "step_run_id": entry.run_id}
    row["label"] = names.get((entry.record_type, entry.local_id or 0))
    return row


def _prune(state: PcoState) -> None:
    """Keep the plans of the latest ``KEPT_PLANS`` dry runs."""
    Plan_ = state.models.PlanEntry
    latest = (
        select(Plan_.run_id).distinct().order_by(Plan_.run_id.desc()).limit(KEPT_PLANS)
    ).subquery()
    state.db.session.execute(delete(Plan_).where(Plan_.run_id.not_in(select(latest.c.run_id))))


@dataclass(frozen=True)
class Plan:
    """A dry run, and one page of what it would change (``total`` in all), in the order made."""

    run: Any
    entries: list[Any]
    total: int


def plan_changes(state: PcoState, run_id: int, limit: int | None = None, offset: int = 0) -> Plan:
    """The plan of dry run ``run_id``: its changes from ``offset``, at most ``limit``."""
    SyncRun, Plan_ = state.models.SyncRun, state.models.PlanEntry
    run = state.db.session.get(SyncRun, run_id)
    if run is None:
        raise ConfigError(f"no run with id {run_id}")
    if not run.dry_run:
        raise ConfigError(f"run {run_id} is not a dry run; `flask pco changes {run_id}`")
    where = Plan_.run_id == run_id
    total = int(state.db.session.scalar(select(func.count()).where(where)) or 0)
    query = select(Plan_).where(where).order_by(Plan_.id).offset(offset).limit(limit)
    return Plan(run, list(state.db.session.scalars(query)), total)


def plan_names(entries: list[Any]) -> dict[tuple[str, int], str]:
    """The names ``change_line`` gives the entries: those the scratch had when planned."""
    return {(e.record_type, e.local_id or 0): e.label for e in entries if e.label}


def plan_record(entry: Any) -> dict[str, Any]:
    """One planned change as JSON: side, record type and ids, action, field, old and new."""
    return {
        "run_id": entry.step_run_id,
        "side": entry.side,
        "record_type": entry.record_type,
        "local_id": entry.local_id,
        "pco_id": entry.pco_id,
        "label": entry.label,
        "action": entry.action,
        "field": entry.field,
        "old": entry.old_value,
        "new": entry.new_value,
    }


#: A change as compared between a plan and a run: the ids a run assigns made ordinals.
Change = tuple[Any, ...]
#: The ids ``PlannedWrites`` gives what a dry run "creates" in PCO.
_PLANNED_ID = "dry-"


def side_by_side(plan: list[Any], run: list[Any]) -> tuple[list[Change], list[Change]]:
    """A plan's entries and its real run's, as changes that compare equal when the run did
    what was planned (``comparable_changes``), in order."""
    planned_links = {
        (e.record_type, e.local_id)
        for e in plan
        if e.action == "link" and str(e.new_value).startswith(_PLANNED_ID)
    }
    # A link to a record PCO made along (a new household's memberships) is not journaled as a
    # create: the run's link stands where the plan's link to a planned id stood.
    made_along = {
        str(e.new_value)
        for e in run
        if e.action == "link" and (e.record_type, e.local_id) in planned_links
    }
    return comparable_changes(plan), comparable_changes(run, made_along)


def comparable_changes(
    entries: list[Any], new_pco_ids: frozenset[str] | set[str] = frozenset()
) -> list[Change]:
    """The entries as comparable tuples, in order, each id the run itself gave replaced by the
    record's id on the other side: a record a run creates gets a new id each time (a dry run's
    ``dry-1``, the real run's PCO id; on PostgreSQL a new local id too, as a rolled-back
    sequence stays advanced), but a pulled person is the same PCO person and a pushed one the
    same local person in both. ``new_pco_ids``: other PCO ids the run made (``side_by_side``).
    Values are JSON text, so changes can be counted."""
    given: dict[tuple[str, Any], str] = {}

    def assigned(key: tuple[str, Any], entry: Any, other: Any) -> None:
        other_side = "PCO" if key[0] == "local" else "local"
        name = f"new {entry.record_type} of {other_side} {other}" if other else None
        if name is None and entry.action == "create" and entry.new_value:
            # A row PCO has no record of (the groups' department): named by what it holds, so
            # a create elsewhere in the run does not renumber it.
            name = f"new {entry.record_type} {_hashable(entry.new_value)}"
        given.setdefault(key, name or f"new #{len(given) + 1}")

    def pco(value: Any, entry: Any) -> Any:
        if value is None:
            return None
        key = ("pco", str(value))
        if str(value).startswith(_PLANNED_ID) or str(value) in new_pco_ids:
            assigned(key, entry, entry.local_id)
        return given.get(key, value)

    changes = []
    for entry in entries:
        if entry.action == "create" and entry.side == "pco":
            assigned(("pco", str(entry.pco_id)), entry, entry.local_id)
        elif entry.action == "create":
            assigned(("local", (entry.record_type, entry.local_id)), entry, entry.pco_id)
        local = given.get(("local", (entry.record_type, entry.local_id)), entry.local_id)
        new = pco(entry.new_value, entry) if entry.action == "link" else entry.new_value
        new = _named_references(entry, new, given)
        record = (entry.side, entry.record_type, local, pco(entry.pco_id, entry))
        values = (_hashable(entry.old_value), _hashable(new))
        changes.append((*record, entry.action, entry.field, *values))
    return changes


#: (role, logical field) -> the role whose local id the field holds (a person's campus).
_REFERENCES = {
    (role, f.name): f.references for role, fs in ROLE_FIELDS.items() for f in fs if f.references
}


def _named_references(entry: Any, value: Any, given: dict[tuple[str, Any], str]) -> Any:
    """A created row's values with each id of a row the run created too (a campus its people
    name) replaced by that row's name: on PostgreSQL the dry run's rolled-back inserts leave
    the sequence advanced, so the real run's ids differ for the same records."""
    if entry.action != "create" or not isinstance(value, dict):
        return value
    named = dict(value)
    for name, local_id in value.items():
        target = _REFERENCES.get((entry.record_type, name))
        if target is not None and local_id is not None:
            named[name] = given.get(("local", (target, local_id)), local_id)
    return named


def _hashable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


@dataclass(frozen=True)
class PlanOutcome:
    """How a real run's changes compare with the preview it was started from.

    ``unplanned``: journal entries of the run the plan did not have; ``not_done``: plan entries
    the run did not make. Both empty: the run did what the preview showed. PCO changing in
    between (a name edited again, a person added) is what makes them differ: the run read PCO
    afresh and applied what it found, never the plan's values.
    """

    run: Any
    planned: int
    made: int
    unplanned: list[Any]
    not_done: list[Any]

    @property
    def as_planned(self) -> bool:
        return not self.unplanned and not self.not_done


def compare_with_run(state: PcoState, plan_run_id: int, run_id: int) -> PlanOutcome:
    """Compare dry run ``plan_run_id``'s plan with what run ``run_id`` journaled."""
    plan = plan_changes(state, plan_run_id).entries
    found = run_changes(state, run_id)
    planned, made = side_by_side(plan, found.entries)
    return PlanOutcome(
        found.run,
        len(plan),
        len(found.entries),
        unplanned=_left_over(found.entries, made, planned),
        not_done=_left_over(plan, planned, made),
    )


def _left_over(entries: list[Any], changes: list[Change], other: list[Change]) -> list[Any]:
    """The entries whose change ``other`` lacks (counted: twice in one, once in other → once)."""
    remaining = Counter(other)
    left = []
    for entry, change in zip(entries, changes, strict=True):
        if remaining[change] > 0:
            remaining[change] -= 1
        else:
            left.append(entry)
    return left
