"""The admin page's campus filter: the runs and held matches that concern one campus's people.

Shown only where the site keeps campuses and its people name one (the ``campus`` role and the
person's ``primary_campus`` column). A run concerns a campus when it changed one of its people
(the journal says which runs did); a held match, when the local person it is about, or one of
its candidates, belongs there. A PCO person not linked here yet belongs to no campus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    from flask_pco.state import PcoState
    from flask_pco.web.run_views import RunView

__all__ = ["CampusFilter", "campus_filter", "held_in_campus", "runs_in_campus"]


@dataclass(frozen=True)
class CampusFilter:
    """The campuses to choose from, the one chosen, and its people (``None``: no filter)."""

    choices: list[tuple[int, str]] = field(default_factory=list)
    selected: int | None = None
    people: frozenset[int] | None = None
    #: Why the asked-for campus was not applied (a value that names no campus).
    problem: str | None = None

    @property
    def active(self) -> bool:
        return self.people is not None


def campus_filter(state: PcoState, asked: str | None) -> CampusFilter:
    """The filter ``?campus=<id>`` asks for; an id that names no campus filters nothing."""
    roles = state.roles
    if not (roles.has("campus") and roles.present("person", "primary_campus")):
        return CampusFilter()
    Campus = roles.model("campus")
    name = getattr(Campus, roles.column("campus", "name"))
    choices = [(row_id, label) for row_id, label in state.db.session.execute(
        select(Campus.id, name).order_by(name)
    )]  # fmt: skip
    if not asked:
        return CampusFilter(choices)
    wanted = int(asked) if asked.isdigit() else None
    if wanted not in {row_id for row_id, _ in choices}:
        return CampusFilter(choices, problem=f"no campus has the id {asked[:20]!r}: showing all")
    Person = roles.model("person")
    campus = getattr(Person, roles.column("person", "primary_campus"))
    people = frozenset(state.db.session.scalars(select(Person.id).where(campus == wanted)))
    return CampusFilter(choices, wanted, people)


def runs_in_campus(state: PcoState, runs: Sequence[RunView], chosen: CampusFilter) -> list[Any]:
    """The runs (or any of their steps) that changed one of the campus's people."""
    if chosen.people is None:
        return list(runs)
    Entry = state.models.JournalEntry
    Person = state.roles.model("person")
    campus = getattr(Person, state.roles.column("person", "primary_campus"))
    of_campus = select(Person.id).where(campus == chosen.selected)  # not a list of thousands
    run_ids = {run.id for run in runs} | {step.id for run in runs for step in run.steps}
    touched = set(
        state.db.session.scalars(
            select(Entry.run_id)
            .distinct()
            .where(
                Entry.run_id.in_(run_ids),
                Entry.record_type == "person",
                Entry.local_id.in_(of_campus),
            )
        )
    )
    return [r for r in runs if r.id in touched or any(s.id in touched for s in r.steps)]


def held_in_campus(issues: Iterable[Any], chosen: CampusFilter) -> list[Any]:
    """The held matches about one of the campus's people (the person, or a candidate)."""
    if chosen.people is None:
        return list(issues)
    people = chosen.people
    return [
        issue
        for issue in issues
        if issue.local_id in people or any(c in people for c in issue.candidates or ())
    ]
