"""An admin settles a held match: link it to one of its candidates, or create a new person.

A pull holds a PCO person that matches several local people (the issue names the PCO id and
the local candidates); a push holds a local person that could be several PCO people, or that
looks like a local person already linked (the issue names the local id and the PCO
candidates). Either way the admin's answer is one action:

* **link** to one candidate: the local person gets that PCO id now, and the next sync treats
  the pair as linked (PCO's values win, as for any new link);
* **create new**: none of the candidates is this person. The decision stays on the issue, so
  the next pull creates a local person for the PCO one (or the next push a PCO person for the
  local one) instead of asking again.

Anything else (a candidate not offered, a person linked meanwhile) is refused with one line
and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.exceptions import ConfigError
from flask_pco.models import utcnow
from flask_pco.sync.journal import record_admin_link

if TYPE_CHECKING:
    from flask_pco.state import PcoState
    from flask_pco.sync.context import SyncContext

__all__ = ["HeldMatch", "PullDecisions", "create_new", "held_match", "link_held", "pull_decisions"]


@dataclass(frozen=True, slots=True)
class HeldMatch:
    """A held person match, read the way an admin decides it."""

    issue: Any
    #: ``pull`` (a PCO person, local candidates) or ``push`` (a local person, PCO candidates).
    side: str

    @property
    def candidates(self) -> list[str]:
        return [str(c) for c in self.issue.candidates or ()]


def held_match(state: PcoState, issue_id: int) -> HeldMatch:
    """The open held match ``issue_id``; a ``ConfigError`` says why it cannot be settled."""
    issue = state.db.session.get(state.models.SyncIssue, issue_id)
    if issue is None or issue.kind != "ambiguous" or issue.resource_type != "Person":
        raise ConfigError(f"issue {issue_id} is not a held person match")
    if issue.resolved_at is not None:
        raise ConfigError(
            f"issue {issue_id} was already settled ({issue.resolution or 'resolved'})"
        )
    return HeldMatch(issue, "push" if issue.local_id is not None else "pull")


def link_held(state: PcoState, issue_id: int, candidate: str) -> str:
    """Link a held match to one of its candidates; returns what was done, in words."""
    held = held_match(state, issue_id)
    candidate = str(candidate).strip()
    if candidate not in held.candidates:
        offered = ", ".join(held.candidates) or "none"
        raise ConfigError(
            f"{candidate!r} is not a candidate of issue {issue_id} (candidates: {offered})"
        )
    if held.side == "pull":
        local_id, pco_id = int(candidate), str(held.issue.pco_id)
    else:
        local_id, pco_id = int(held.issue.local_id), candidate
    person = _linkable(state, local_id, pco_id)
    record_admin_link(state, "person", person, pco_id)
    person.pco_id = pco_id
    person.pco_snapshot = None  # no common base yet: the next sync takes PCO's values
    person.pco_updated_at = None
    _settle(held, f"linked:{local_id if held.side == 'pull' else pco_id}")
    state.db.session.commit()
    return (
        f"Linked local person {local_id} to PCO person {pco_id}; the next sync brings them in line."
    )


def create_new(state: PcoState, issue_id: int) -> str:
    """Record that none of the candidates is this person: the next sync creates one."""
    held = held_match(state, issue_id)
    _settle(held, "create_new")
    state.db.session.commit()
    if held.side == "pull":
        return f"The next pull creates a new local person for PCO person {held.issue.pco_id}."
    return f"The next push creates a new PCO person for local person {held.issue.local_id}."


def _linkable(state: PcoState, local_id: int, pco_id: str) -> Any:
    Person = state.roles.model("person")
    person = state.db.session.get(Person, local_id)
    if person is None:
        raise ConfigError(f"local person {local_id} no longer exists")
    if person.pco_id not in (None, pco_id):
        raise ConfigError(
            f"local person {local_id} is already linked to PCO person {person.pco_id}"
        )
    other = state.db.session.scalar(
        select(Person.id).where(Person.pco_id == pco_id, Person.id != local_id)
    )
    if other is not None:
        raise ConfigError(f"PCO person {pco_id} is already linked to local person {other}")
    return person


def _settle(held: HeldMatch, resolution: str) -> None:
    held.issue.resolved_at = utcnow()
    held.issue.resolution = resolution


@dataclass(frozen=True, slots=True)
class PullDecisions:
    """What a pull must know of held PCO people: the open holds, and those to create anyway."""

    #: PCO id → its open hold: cleared when a pull matches the person without doubt.
    open: dict[str, Any]
    #: PCO ids an admin said to create a new local person for.
    create_new: frozenset[str]

    def settled(self, pco_id: str) -> None:
        """``pco_id`` matched one local person (or was created): its old hold no longer stands."""
        issue = self.open.pop(pco_id, None)
        if issue is not None:
            _settle(HeldMatch(issue, "pull"), "cleared")


def pull_decisions(ctx: SyncContext) -> PullDecisions:
    """The pull's held-person decisions, read once per run (usually no rows at all)."""
    if "pull_decisions" not in ctx.memo:
        Issue = ctx.models.SyncIssue
        rows = ctx.session.scalars(
            select(Issue).where(
                Issue.kind == "ambiguous",
                Issue.resource_type == "Person",
                Issue.pco_id.is_not(None),
                Issue.local_id.is_(None),
                (Issue.resolved_at.is_(None)) | (Issue.resolution == "create_new"),
            )
        ).all()
        ctx.memo["pull_decisions"] = PullDecisions(
            {r.pco_id: r for r in rows if r.resolved_at is None},
            frozenset(r.pco_id for r in rows if r.resolution == "create_new"),
        )
    decisions: PullDecisions = ctx.memo["pull_decisions"]
    return decisions
