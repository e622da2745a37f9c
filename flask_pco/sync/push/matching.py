"""Before the push creates a PCO person: which PCO person is this local one already?

The push answers with the pull's own matcher, the other way round. For a local person without
a PCO id it gathers the PCO people that could be them from the listing it already holds (our
``remote_id``, a shared email address, the same name and birth date: no request per person,
and no search, which lags new records by 30-90 s), then asks ``PersonMatcher`` whom a pull
would link each of those PCO people to. A link is made only where a pull would make it:

* exactly one PCO person a pull would give to this local person: linked;
* a PCO person a pull would hold between this local person and another: held;
* several PCO people that are all this local person: held;
* this local person is one of the candidates of a match a pull held: held until an admin
  settles that one (no create in between);
* this local person looks like another local person already linked to a PCO person (same
  first and last name and birth date, or same email and first name): held, since creating them
  would put one human in PCO twice; an admin merges the local rows or confirms "create new";
* nothing: created.

An admin's "create new" (``holds.create_new``) is remembered on the held issue and skips the
matching for that person from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from flask_pco.models import utcnow
from flask_pco.sync.matching import PersonMatcher
from flask_pco.sync.push.remote_index import PeopleIndex, RemotePerson, name_key

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["Hold", "PushMatcher"]


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a local person is not linked nor created, and the PCO ids it could be."""

    reason: str
    candidates: list[int] = field(default_factory=list)
    #: The hold is a pull's, already listed for an admin: count it, record nothing new.
    pulled: bool = False


class PushMatcher:
    """Finds the PCO person each unlinked local person already is, as a pull would."""

    def __init__(self, ctx: SyncContext, local_ids: set[int], claimed: dict[str, int]) -> None:
        self.ctx = ctx
        #: Local person ids: a PCO person whose ``remote_id`` is one of these belongs to it.
        self.local_ids = local_ids
        #: PCO id → the local person linked to it.
        self.claimed = claimed
        self.pull_holds: dict[int, Any] = {}
        self.create_new: set[int] = set()
        self.open_holds: dict[int, Any] = {}
        self._load_decisions()

    def match(self, person: Any, index: PeopleIndex) -> RemotePerson | Hold | None:
        """The PCO person ``person`` already is, a ``Hold``, or None (create them)."""
        own = index.with_remote_id(person.id)
        if len(own) == 1:
            return own[0]
        if own:
            return Hold(f"{len(own)} PCO people carry remote_id {person.id}", _ids(own))
        if person.id in self.create_new:
            return None
        pulled = self.pull_holds.get(person.id)
        if pulled is not None:
            reason = (
                f"a pull held PCO person {pulled.pco_id} between local people {pulled.candidates}"
            )
            return Hold(reason, [int(pulled.pco_id)] if pulled.pco_id.isdigit() else [], True)
        free, taken = self._candidates(person, index)
        twin = next((r for r in taken if self._same_human(person, r)), None)
        if twin is not None:
            return Hold(_twin_reason(person, twin, self.claimed[twin.id]), _ids([twin]))
        return self._decide(person, free)

    def settled(self, person: Any) -> None:
        """``person`` was linked or created: a hold an earlier run recorded no longer stands."""
        issue = self.open_holds.pop(person.id, None)
        if issue is not None:
            issue.resolved_at, issue.resolution = utcnow(), "cleared"

    # -- candidates ------------------------------------------------------------------------

    def _candidates(
        self, person: Any, index: PeopleIndex
    ) -> tuple[list[RemotePerson], list[RemotePerson]]:
        """PCO people sharing an email or the name and birth date: (unlinked, linked here)."""
        found: dict[str, RemotePerson] = {}
        for address in self._emails(person):
            found.update((r.id, r) for r in index.with_email(address))
        found.update((r.id, r) for r in index.with_name(self._name_key(person)))
        free, taken = [], []
        for remote in found.values():
            if remote.id in self.claimed:
                taken.append(remote)
            elif remote.remote_id not in self.local_ids or remote.remote_id == person.id:
                free.append(remote)  # one carrying another local person's id is theirs
        return free, taken

    def _decide(self, person: Any, free: list[RemotePerson]) -> RemotePerson | Hold | None:
        claims = []
        for remote in free:
            match = self._pull_match(remote)
            if match.row is not None and match.row.id == person.id:
                claims.append(remote)
            elif match.held and person.id in match.candidates:
                reason = (
                    f"PCO person {remote.id} ({_name(remote)}) matches local people "
                    f"{list(match.candidates)}: link it to the right one"
                )
                return Hold(reason, _ids([remote]))
        if len(claims) > 1:
            return Hold(f"matches {len(claims)} PCO people: link the right one", _ids(claims))
        if claims and claims[0].remote_id not in (None, person.id):
            reason = (
                f"matches PCO person {claims[0].id}, which carries remote_id "
                f"{claims[0].remote_id} (not a person of this site)"
            )
            return Hold(reason, _ids(claims))
        return claims[0] if claims else None

    def _pull_match(self, remote: RemotePerson) -> Any:
        """Whom a pull would link ``remote`` to, from the local rows as they are now."""
        matcher = PersonMatcher(self.ctx.session, self.ctx.roles)
        data = remote.as_person_data()
        matcher.load([data])
        return matcher.match(data)

    def _same_human(self, person: Any, remote: RemotePerson) -> bool:
        """Whether ``person`` names the human another local row is linked to in PCO."""
        key = self._name_key(person)
        if key is not None and key == remote.name_key:
            return True
        first = _fold(self._value(person, "first_name"))
        shares_email = any(remote.email(address) for address in self._emails(person))
        names = {_fold(remote.values.get("first_name")), *map(_fold, remote.other_names)}
        last_agrees = _fold(self._value(person, "last_name")) == _fold(
            remote.values.get("last_name")
        )
        return shares_email and first in names and last_agrees

    # -- the local side --------------------------------------------------------------------

    def _emails(self, person: Any) -> list[str]:
        if not self.ctx.roles.has("email"):
            return []
        Email = self.ctx.roles.model("email")
        owner = getattr(Email, self.ctx.roles.column("email", "person_id"))
        address = getattr(Email, self.ctx.roles.column("email", "email"))
        rows = self.ctx.session.scalars(select(address).where(owner == person.id))
        return [value for value in rows if value]

    def _name_key(self, person: Any) -> tuple[str, str, str] | None:
        return name_key(*(self._value(person, f) for f in ("first_name", "last_name", "dob")))

    def _value(self, person: Any, logical: str) -> Any:
        return getattr(person, self.ctx.roles.column("person", logical), None)

    def _load_decisions(self) -> None:
        """Open holds (the pull's, by local candidate; the push's, by person) and the people an
        admin said to create anyway: one query, run once per push step."""
        Issue = self.ctx.models.SyncIssue
        query = select(Issue).where(
            Issue.kind == "ambiguous",
            Issue.resource_type == "Person",
            or_(Issue.resolved_at.is_(None), Issue.resolution == "create_new"),
        )
        for issue in self.ctx.session.scalars(query):
            if issue.resolution == "create_new" and issue.local_id is not None:
                self.create_new.add(issue.local_id)
            elif issue.resolved_at is None and issue.local_id is not None:
                self.open_holds[issue.local_id] = issue
            elif issue.resolved_at is None and issue.pco_id:
                for local_id in issue.candidates or ():
                    self.pull_holds[int(local_id)] = issue


def _twin_reason(person: Any, twin: RemotePerson, local_id: int) -> str:
    return (
        f"looks like local person {local_id}, already linked to PCO person {twin.id} "
        f"({_name(twin)}): merge the two here if they are one person, or confirm create new"
    )


def _name(remote: RemotePerson) -> str:
    return f"{remote.values.get('first_name') or ''} {remote.values.get('last_name') or ''}".strip()


def _fold(value: Any) -> str:
    return str(value or "").strip().lower()


def _ids(people: list[RemotePerson]) -> list[int]:
    return [int(p.id) for p in people if p.id.isdigit()]
