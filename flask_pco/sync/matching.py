"""Finding the local person a PCO person is: pco_id → remote_id → email → name + birth date.

The tiers, strongest first (the spec's "Matching Logic", plus PCO's ``remote_id``, which our
push sets to ``people.id``):

1. ``pco_id``: the row already linked to this PCO record;
2. ``remote_id``: the row our push created this PCO record from;
3. email (case-insensitive, through the email table), when the first name agrees too (PCO's
   first name, nickname or given name, case-insensitive);
4. first + last name (case-insensitive) + date of birth, only when PCO has a birth date;
5. none: the caller creates a new person.

Why the email tier asks for the first name: families share one address. With PCO holding only
Alice and the site only Bob, both at ``smiths@example.org``, an email alone would make Bob
Alice; with the first name, Bob stays Bob and Alice arrives as herself. A nickname PCO knows
("Bob" for Robert) still matches.

A local person already linked to another PCO record is never a candidate. Ambiguity is held,
not guessed: two local people with one email and one first name (and no last name to tell
them apart), or several people with the same name and birth date, give an ``ambiguous`` match
naming the candidates, for an admin to resolve. The push uses this same matcher the other way
round (``push_matching``), so a link is made only where a pull would make it.

``PersonMatcher.load`` fetches every candidate of a page at once (at most five queries,
usually one), so matching a page of 100 people costs the same as matching one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from flask_pco.mapping.people import PersonData
from flask_pco.models import Roles

__all__ = ["Match", "PersonMatcher"]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of matching one PCO person."""

    #: The local person to update, or ``None`` (create one, unless ``held``).
    row: Any
    #: ``pco_id``, ``remote_id``, ``email``, ``name_dob``, ``new`` or ``ambiguous``.
    tier: str
    #: Local ids of the people it could have been, when ambiguous.
    candidates: tuple[int, ...] = ()
    reason: str = ""

    @property
    def held(self) -> bool:
        return self.tier == "ambiguous"


class PersonMatcher:
    """Matches the PCO people of one page against the local people, with bulk lookups.

    Reusable by webhooks and push helpers: ``load([person])`` then ``match(person)``.
    """

    def __init__(self, session: Any, roles: Roles) -> None:
        self.session = session
        self.roles = roles
        self.Person = roles.model("person")
        self.Email = roles.model("email") if roles.has("email") else None
        self._by_pco_id: dict[str, Any] = {}
        self._by_id: dict[int, Any] = {}
        self._by_email: dict[str, list[Any]] = defaultdict(list)
        self._by_name: dict[tuple[str, str, Any], list[Any]] = defaultdict(list)

    def load(self, people: Sequence[PersonData]) -> None:
        """Fetch every local row any of ``people`` could match, replacing what was loaded."""
        self._by_pco_id = {
            row.pco_id: row
            for row in self._rows(self.Person.pco_id.in_([p.pco_id for p in people]))
        }
        rest = [p for p in people if p.pco_id not in self._by_pco_id]
        self._by_id, self._by_email, self._by_name = {}, defaultdict(list), defaultdict(list)
        if not rest or not self._any_unlinked():
            return  # the weaker tiers only ever match unlinked people
        remote_ids = {p.remote_id for p in rest if p.remote_id is not None}
        if remote_ids:
            self._by_id = {row.id: row for row in self._rows(self.Person.id.in_(remote_ids))}
        self._load_emails({e.address.lower() for p in rest for e in p.emails})
        self._load_names([p for p in rest if p.dob is not None])

    def match(self, person: PersonData) -> Match:
        """The local person ``person`` is, by the strongest tier that decides."""
        row = self._by_pco_id.get(person.pco_id)
        if row is not None and row.pco_id == person.pco_id:
            return Match(row, "pco_id")
        row = self._by_id.get(person.remote_id) if person.remote_id is not None else None
        if row is not None and self._free(row, person):
            return Match(row, "remote_id")
        for tier, found in (
            ("email", self._email_rows(person)),
            ("name_dob", self._name_rows(person)),
        ):
            rows = _distinct(r for r in found if self._free(r, person))
            if tier == "email":
                rows = self._same_person(rows, person)
            if len(rows) == 1:
                return Match(rows[0], tier)
            if len(rows) > 1:
                return Match(None, "ambiguous", tuple(sorted(r.id for r in rows)), _why(tier, rows))
        return Match(None, "new")

    def _same_person(self, rows: list[Any], person: PersonData) -> list[Any]:
        """The rows sharing an email that name the same person: the first name agrees, and
        among several, the last name decides when it can."""
        first, last = self._column("first_name").key, self._column("last_name").key
        names = {_fold(person.first_name), *(_fold(n) for n in person.other_names)} - {""}
        agreeing = [r for r in rows if _fold(getattr(r, first)) in names]
        same_last = [r for r in agreeing if _fold(getattr(r, last)) == _fold(person.last_name)]
        return same_last if len(agreeing) > 1 and len(same_last) == 1 else agreeing

    def remember(self, row: Any) -> None:
        """Record a row created or linked for this page, so a later record finds it by pco_id."""
        self._by_pco_id[row.pco_id] = row

    def _any_unlinked(self) -> bool:
        """Cheap, and saves the email and name scans on every page once everyone is linked."""
        query = select(self.Person.id).where(self.Person.pco_id.is_(None)).limit(1)
        return self.session.scalar(query) is not None

    def _free(self, row: Any, person: PersonData) -> bool:
        return row.pco_id in (None, person.pco_id)

    def _email_rows(self, person: PersonData) -> list[Any]:
        return [row for e in person.emails for row in self._by_email.get(e.address.lower(), ())]

    def _name_rows(self, person: PersonData) -> list[Any]:
        if person.dob is None:
            return []
        return list(
            self._by_name.get(_name_key(person.first_name, person.last_name, person.dob), ())
        )

    def _load_emails(self, addresses: set[str]) -> None:
        if not addresses or self.Email is None:
            return
        email = getattr(self.Email, self.roles.column("email", "email"))
        owner = getattr(self.Email, self.roles.column("email", "person_id"))
        query = (
            select(self.Person, func.lower(email))
            .join(self.Email, owner == self.Person.id)
            .where(func.lower(email).in_(addresses))
        )
        for row, address in self.session.execute(query):
            self._by_email[address].append(row)

    def _load_names(self, people: list[PersonData]) -> None:
        if not people:
            return
        first, last, dob = (self._column(name) for name in ("first_name", "last_name", "dob"))
        query = func.lower(last).in_({p.last_name.lower() for p in people}) & dob.in_(
            {p.dob for p in people}
        )
        wanted = {_name_key(p.first_name, p.last_name, p.dob) for p in people}
        for row in self._rows(query):
            key = _name_key(getattr(row, first.key), getattr(row, last.key), getattr(row, dob.key))
            if key in wanted:
                self._by_name[key].append(row)

    def _column(self, logical: str) -> Any:
        return getattr(self.Person, self.roles.column("person", logical))

    def _rows(self, condition: Any) -> list[Any]:
        return list(self.session.scalars(select(self.Person).where(condition)))


def _name_key(first: str | None, last: str | None, dob: Any) -> tuple[str, str, Any]:
    return (_fold(first), _fold(last), dob)


def _fold(value: Any) -> str:
    return str(value or "").strip().lower()


def _distinct(rows: Iterable[Any]) -> list[Any]:
    return list({id(row): row for row in rows}.values())


def _why(tier: str, rows: list[Any]) -> str:
    what = "email address and first name" if tier == "email" else "name and date of birth"
    ids = ", ".join(str(r.id) for r in rows)
    return f"the {what} matches {len(rows)} local people ({ids}); link one by hand"
