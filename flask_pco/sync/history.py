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

from sqlalchemy import ColumnElement, func, or_, select

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "RECORD_LINKS",
    "ChangeFilter",
    "ChangePage",
    "RunChanges",
    "change_line",
    "find_person",
    "labels",
    "matching_people",
    "people_entries",
    "person_history",
    "record_entries",
    "run_changes",
    "search_changes",
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
    query = select(Entry).where(people_entries(state, [person.id]))
    return list(state.db.session.scalars(query.order_by(Entry.created_at, Entry.id)))


def people_entries(state: PcoState, person_ids: Sequence[int]) -> ColumnElement[bool]:
    """Which journal entries are these people's: their own and their emails', phones' and
    addresses'.

    Shared by a person's history and the admin's Changes view filtered by a person, so both
    find the same entries.
    """
    Entry = state.models.JournalEntry
    ids = list(person_ids)
    mine = [(Entry.record_type == "person") & Entry.local_id.in_(ids)]
    for role in ("email", "phone", "person_address"):
        if not state.roles.has(role) or not ids:
            continue
        model = state.roles.model(role)
        owner = getattr(model, state.roles.column(role, "person_id"))
        query = select(model.id, model.pco_id).where(owner.in_(ids))
        contacts = state.db.session.execute(query).all()
        contact_ids = [row_id for row_id, _ in contacts]
        pco_ids = [pco_id for _, pco_id in contacts if pco_id]
        if contact_ids:
            mine.append((Entry.record_type == role) & Entry.local_id.in_(contact_ids))
        if pco_ids:  # a contact a pull created with its person is journaled by its PCO id
            mine.append((Entry.record_type == role) & Entry.pco_id.in_(pco_ids))
    return or_(*mine)


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


@dataclass(frozen=True)
class ChangeFilter:
    """What the admin's Changes view narrows the journal to; an empty field means any.

    ``person`` is what an admin types: a local id, an email, or part of a name. ``record``
    is one record's history: ("person" | "family" | "group", local id).
    """

    person: str = ""
    record_type: str = ""
    side: str = ""
    action: str = ""
    run_id: int | None = None
    delivery_id: int | None = None
    record: tuple[str, int] | None = None


@dataclass(frozen=True)
class ChangePage:
    """One page of journal entries, newest first, and how many match in all."""

    entries: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


#: Records with a history of their own, and the link rows that belong to them.
RECORD_LINKS = {"family": ("family_member", "family_id"), "group": ("group_membership", "group_id")}


def search_changes(
    state: PcoState, wanted: ChangeFilter, page: int = 1, per_page: int = 50
) -> ChangePage:
    """The entries ``wanted`` picks, newest first, page ``page``: two queries after the
    look-ups the filters need (the people a name matches, a run's steps)."""
    Entry = state.models.JournalEntry
    where: list[ColumnElement[bool]] = []
    for name in ("record_type", "side", "action"):
        if getattr(wanted, name):
            where.append(getattr(Entry, name) == getattr(wanted, name))
    if wanted.run_id is not None:
        SyncRun = state.models.SyncRun
        steps = select(SyncRun.id).where(SyncRun.parent_id == wanted.run_id)
        where.append(Entry.run_id.in_([wanted.run_id, *state.db.session.scalars(steps)]))
    if wanted.delivery_id is not None:
        where.append(Entry.delivery_id == wanted.delivery_id)
    if wanted.person.strip():
        where.append(people_entries(state, matching_people(state, wanted.person)))
    if wanted.record is not None:
        where.append(record_entries(state, *wanted.record))
    count = select(func.count()).select_from(Entry).where(*where)
    total = int(state.db.session.scalar(count) or 0)
    query = select(Entry).where(*where).order_by(Entry.id.desc())
    query = query.offset((page - 1) * per_page).limit(per_page)
    return ChangePage(list(state.db.session.scalars(query)), total, page, per_page)


def matching_people(state: PcoState, text: str, limit: int = 500) -> list[int]:
    """The local people ``text`` names: an id, an email (any letter case), or every word of
    it found in the first or last name. At most ``limit``, so a one-letter search stays a
    bounded ``IN``."""
    key = text.strip()
    if key.isdigit():
        return [int(key)]
    if "@" in key:
        if not state.roles.has("email"):
            return []
        Email = state.roles.model("email")
        address = getattr(Email, state.roles.column("email", "email"))
        owner = getattr(Email, state.roles.column("email", "person_id"))
        query = select(owner).where(func.lower(address) == key.lower()).distinct()
        return list(state.db.session.scalars(query.limit(limit)))
    Person = state.roles.model("person")
    first, last = (
        func.lower(getattr(Person, state.roles.column("person", f)))
        for f in ("first_name", "last_name")
    )
    words = [
        or_(first.contains(w, autoescape=True), last.contains(w, autoescape=True))
        for w in key.lower().split()
    ]
    query = select(Person.id).where(*words).order_by(Person.id).limit(limit)
    return list(state.db.session.scalars(query))


def record_entries(state: PcoState, role: str, local_id: int) -> ColumnElement[bool]:
    """Which entries are one record's history: a person's (with emails and phones), or a
    family's or group's own and its members' (household members, memberships)."""
    if role == "person":
        return people_entries(state, [local_id])
    if role not in RECORD_LINKS:
        raise ConfigError(f"no history is kept per {role}")
    Entry = state.models.JournalEntry
    mine = [(Entry.record_type == role) & (Entry.local_id == local_id)]
    if role == "family":  # the Address a push created for it, on its primary contact
        mine.append((Entry.record_type == "family_address") & (Entry.local_id == local_id))
    link_role, column = RECORD_LINKS[role]
    if state.roles.has(link_role):
        model = state.roles.model(link_role)
        owner = getattr(model, state.roles.column(link_role, column))
        links = list(state.db.session.scalars(select(model.id).where(owner == local_id)))
        if links:
            mine.append((Entry.record_type == link_role) & Entry.local_id.in_(links))
    return or_(*mine)


def labels(
    state: PcoState, entries: Sequence[Any], session: Any = None
) -> dict[tuple[str, int], str]:
    """Names for the people, families and groups the entries touch, one query per type:
    (type, id) → name ("Moab Household (family #3)": a family's name is not unique).

    ``session``: where to read them (a dry run's scratch, where the records it would create
    exist); the app's session by default.
    """
    session = session or state.db.session
    names: dict[tuple[str, int], str] = {}
    for role in ("person", *RECORD_LINKS):
        named = (role, "family_address") if role == "family" else (role,)
        ids = {e.local_id for e in entries if e.record_type in named and e.local_id}
        if not ids or not state.roles.has(role):
            continue
        model = state.roles.model(role)
        if role == "person":
            first, last = (
                getattr(model, state.roles.column("person", f)) for f in ("first_name", "last_name")
            )
            rows = session.execute(select(model.id, first, last).where(model.id.in_(ids)))
            names |= {("person", i): f"{f or ''} {la or ''}".strip() for i, f, la in rows}
            continue
        name = getattr(model, state.roles.column(role, "name"))
        rows = session.execute(select(model.id, name).where(model.id.in_(ids)))
        names |= {(role, i): f"{n} ({role} #{i})" for i, n in rows if n}
    # The Address a push made for a family, on its primary contact: named after the family.
    names |= {
        ("family_address", i): f"address of {n}" for (r, i), n in names.items() if r == "family"
    }
    return names


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
