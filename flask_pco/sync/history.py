"""Reading the change journal back: one person's history, one run's changes, in words.

What ``flask pco history`` and ``flask pco changes`` print (and what an admin's Changes view
can show): each entry as one line such as ``Maria Garcia: last_name "Garcia" → "García"
(PCO)``, where the side in brackets says where the change was made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "RunChanges",
    "change_line",
    "find_person",
    "labels",
    "person_history",
    "run_changes",
    "source",
]

#: How each side is named in a line.
SIDES = {"local": "local", "pco": "PCO"}
#: The words for an action without a field.
DONE = {
    "create": "created",
    "remove": "removed",
    "link": "linked",
    "unlink": "unlinked",
    "merge": "merged",
    "deactivate": "deactivated",
    "update": "updated",
}


def find_person(state: PcoState, key: str) -> Any:
    """The local person ``key`` names: a local id, or an email one person has.

    A ``ConfigError`` says why there is none (no such id, nobody with the email, or several).
    """
    Person = state.roles.model("person")
    if key.strip().isdigit():
        person = state.db.session.get(Person, int(key))
        if person is None:
            raise ConfigError(f"no local person with id {key.strip()}")
        return person
    if "@" not in key or not state.roles.has("email"):
        raise ConfigError(f"{key!r} is neither a local person id nor an email address")
    Email = state.roles.model("email")
    address = getattr(Email, state.roles.column("email", "email"))
    owner = getattr(Email, state.roles.column("email", "person_id"))
    query = select(owner).where(func.lower(address) == key.strip().lower()).distinct()
    owners = sorted(state.db.session.scalars(query))
    if not owners:
        raise ConfigError(f"no local person has the email {key.strip()}")
    if len(owners) > 1:
        ids = ", ".join(str(i) for i in owners)
        raise ConfigError(f"{len(owners)} local people have the email {key.strip()}: ids {ids}")
    return state.db.session.get(Person, owners[0])


def person_history(state: PcoState, person: Any) -> list[Any]:
    """The journal entries of ``person`` and of their emails and phones, oldest first."""
    Entry = state.models.JournalEntry
    mine = [(Entry.record_type == "person") & (Entry.local_id == person.id)]
    for role in ("email", "phone"):
        if not state.roles.has(role):
            continue
        model = state.roles.model(role)
        owner = getattr(model, state.roles.column(role, "person_id"))
        query = select(model.id, model.pco_id).where(owner == person.id)
        contacts = state.db.session.execute(query).all()
        ids = [row_id for row_id, _ in contacts]
        pco_ids = [pco_id for _, pco_id in contacts if pco_id]
        if ids:
            mine.append((Entry.record_type == role) & Entry.local_id.in_(ids))
        if pco_ids:  # a contact a pull created with its person is journaled by its PCO id
            mine.append((Entry.record_type == role) & Entry.pco_id.in_(pco_ids))
    query = select(Entry).where(or_(*mine)).order_by(Entry.created_at, Entry.id)
    return list(state.db.session.scalars(query))


@dataclass(frozen=True)
class RunChanges:
    """A run, the runs it ran (a full run's steps), and their journal entries in order."""

    run: Any
    run_ids: tuple[int, ...]
    entries: list[Any]
    total: int


def run_changes(state: PcoState, run_id: int, limit: int | None = None) -> RunChanges:
    """The changes run ``run_id`` (and its steps) made; the first ``limit`` of them."""
    SyncRun, Entry = state.models.SyncRun, state.models.JournalEntry
    run = state.db.session.get(SyncRun, run_id)
    if run is None:
        raise ConfigError(f"no run with id {run_id}")
    steps = state.db.session.scalars(select(SyncRun.id).where(SyncRun.parent_id == run_id))
    run_ids = (run_id, *steps)
    where = Entry.run_id.in_(run_ids)
    total = int(state.db.session.scalar(select(func.count()).where(where)) or 0)
    query = select(Entry).where(where).order_by(Entry.id).limit(limit)
    return RunChanges(run, run_ids, list(state.db.session.scalars(query)), total)


def labels(
    state: PcoState, entries: Sequence[Any], session: Any = None
) -> dict[tuple[str, int], str]:
    """Names for the people the entries touch, read in one query: (type, id) → name.

    ``session``: where to read them (a dry run's scratch, where the people it would create
    exist); the app's session by default.
    """
    ids = {e.local_id for e in entries if e.record_type == "person" and e.local_id}
    if not ids:
        return {}
    Person = state.roles.model("person")
    first, last = (
        getattr(Person, state.roles.column("person", f)) for f in ("first_name", "last_name")
    )
    query = select(Person.id, first, last).where(Person.id.in_(ids))
    rows = (session or state.db.session).execute(query)
    return {("person", i): f"{f or ''} {la or ''}".strip() for i, f, la in rows}


def change_line(entry: Any, names: dict[tuple[str, int], str]) -> str:
    """One entry in words: who or what, what changed, and on which side."""
    label = names.get((entry.record_type, entry.local_id or 0)) or _record(entry)
    side = SIDES.get(entry.side, entry.side)
    if entry.field is not None:
        old, new = _shown(entry.old_value), _shown(entry.new_value)
        how = "" if entry.action == "update" else f", {DONE.get(entry.action, entry.action)}"
        return f"{label}: {entry.field} {old} → {new} ({side}{how})"
    what = DONE.get(entry.action, entry.action)
    if entry.action == "link" and entry.new_value:
        what += f" to PCO {entry.new_value}"
    return f"{label}: {what} ({side})"


def source(entry: Any) -> str:
    """Which run or webhook delivery made the change (an admin's own: "admin")."""
    if entry.run_id is not None:
        return f"run {entry.run_id}"
    if entry.delivery_id is not None:
        return f"webhook delivery {entry.delivery_id}"
    return "admin"


def _record(entry: Any) -> str:
    name = str(entry.record_type).replace("_", " ")
    name += f" #{entry.local_id}" if entry.local_id else ""
    return name + (f" (PCO {entry.pco_id})" if entry.pco_id else "")


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
