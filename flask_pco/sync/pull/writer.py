"""Applying a page of PCO people to the local tables: match, upsert, then their contacts
(``person_contacts``) and family address.

Every lookup is made for the whole page at once (the matcher's candidates, the page's emails,
phones and family links), so a page of 100 people costs a handful of queries, not hundreds.
Only PCO-owned fields are written; local-owned columns are never named here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select

from flask_pco.mapping.people import PersonData
from flask_pco.mapping.person_fields import PULL_ONLY_PERSON_FIELDS
from flask_pco.models import Outcome, utcnow
from flask_pco.roles import ROLE_FIELDS
from flask_pco.sync.context import SyncContext
from flask_pco.sync.holds import pull_decisions
from flask_pco.sync.journal import record
from flask_pco.sync.matching import Match, PersonMatcher
from flask_pco.sync.policy import comparable
from flask_pco.sync.pull.campuses import campus_ids
from flask_pco.sync.pull.household_links import (
    address_of,
    family_addresses,
    family_relationships,
)
from flask_pco.sync.pull.person_contacts import CONTACTS, ContactsWriter, NewPerson
from flask_pco.sync.rows import (
    NOT_WRITTEN,
    insert_rows,
    merge_into,
    remember_pco_values,
    set_fields,
    stamp,
    too_long,
    touch,
)

__all__ = ["NewPerson", "PeopleWriter"]

_REQUIRED_PERSON_FIELDS = frozenset(f.name for f in ROLE_FIELDS["person"] if f.required)


#: What a page will do to a person; ``stale``: PCO sent an older version than the one applied.
Planned = Outcome | Literal["stale"]


class PeopleWriter:
    """Upserts PCO people under the ownership policy; ``apply`` returns one outcome each."""

    def __init__(self, ctx: SyncContext, recorder: Any) -> None:
        self.ctx = ctx
        self.recorder = recorder  # PageTally or RunReporter: receives held and bad records
        self.matcher = PersonMatcher(ctx.session, ctx.roles)
        #: PCO campus id → local campus id, for the people being applied (see ``_values``).
        self.campuses: dict[str, int] = {}
        #: Each new person's fields the host has, worked out once for its row and its journal
        #: entry; emptied with every page.
        self._known: dict[str, dict[str, Any]] = {}

    def apply(self, people: Sequence[PersonData]) -> list[Outcome]:
        """Outcomes ``created``/``updated``/``unchanged``/``held``/``skipped``, in the order of
        ``people``; a person with a value too long for the host's columns is skipped, named."""
        refused = {p.pco_id for p in people if self._refused(p)}
        written = iter(self._apply([p for p in people if p.pco_id not in refused]))
        return ["skipped" if p.pco_id in refused else next(written) for p in people]

    def _refused(self, person: PersonData) -> bool:
        address = address_of(person)
        checks = [
            ("person", self._values(person)),
            *((kind.role, kind.values(item)) for kind in CONTACTS for item in kind.items(person)),
            *([("family", address)] if address else []),
        ]
        why = next((w for role, values in checks if (w := too_long(self.ctx, role, values))), None)
        if why is not None:
            self.recorder.issue("invalid", "Person", f"{NOT_WRITTEN}{why}", pco_id=person.pco_id)
        return why is not None

    def _values(self, person: PersonData) -> dict[str, Any]:
        """The person's fields in local form: PCO's campus id becomes the local campus's id
        (left out while that campus is not pulled yet, so a link is never cleared by it)."""
        values = person.demographics()
        if "primary_campus" in values and values["primary_campus"] is not None:
            local = self.campuses.get(values["primary_campus"])
            if local is None:
                del values["primary_campus"]
            else:
                values["primary_campus"] = local
        return values

    def _apply(self, people: Sequence[PersonData]) -> list[Outcome]:
        if self.ctx.roles.present("person", "primary_campus"):
            wanted = {dict(p.more).get("primary_campus") for p in people}
            self.campuses = campus_ids(self.ctx, {c for c in wanted if isinstance(c, str)})
        self.matcher.load(people)
        self._known = {}
        plans = [self._upsert(person) for person in people]
        self._insert_new(people, plans)
        self.ctx.session.flush()
        written = [
            (p, row, outcome)
            for p, (row, outcome) in zip(people, plans, strict=True)
            if row is not None
        ]
        changed = ContactsWriter(self.ctx).apply(written) | family_addresses(self.ctx, written)
        family_relationships(self.ctx, written)
        outcomes: list[Outcome] = []
        unchanged_ids = []
        for person, (row, outcome) in zip(people, plans, strict=True):
            if outcome == "stale":
                outcome = "unchanged"  # never overwrite a newer version with an older one
            elif outcome == "unchanged" and row is not None and id(row) in changed:
                outcome = "updated"
            if outcome == "updated":
                stamp(row, person.pco_id, person.updated_at)
            elif outcome == "unchanged" and row is not None:
                unchanged_ids.append(row.id)
            outcomes.append(outcome)
        touch(self.ctx, "person", unchanged_ids)
        return outcomes

    # -- the person row ------------------------------------------------------------------------

    def _upsert(self, person: PersonData) -> tuple[Any, Planned]:
        match = self.matcher.match(person)
        decisions = pull_decisions(self.ctx)
        if match.held and person.pco_id not in decisions.create_new:
            self._hold(person, match)
            return None, "held"
        decisions.settled(person.pco_id)
        if match.row is None or match.held:
            return None, "created"  # inserted with the page's other new people
        row = match.row
        if _stale(row, person):
            return row, "stale"
        linked = row.pco_id != person.pco_id
        if linked:
            record(self.ctx, "person", "link", row=row, old=row.pco_id, new=person.pco_id)
        row.pco_id = person.pco_id
        self.matcher.remember(row)
        values = self._values(person)
        changed = merge_into(self.ctx, row, "person", values)
        # Fields PCO does not let us write: PCO's value always wins, nothing is kept to push.
        pull_only = {f: values[f] for f in PULL_ONLY_PERSON_FIELDS if f in values}
        changed = set_fields(row, "person", pull_only, self.ctx) or changed
        before = dict(row.pco_snapshot or {})
        remember_pco_values(row, {"address": address_of(person)})
        changed = changed or linked or before != row.pco_snapshot
        return row, "updated" if changed else "unchanged"

    def _insert_new(self, people: Sequence[PersonData], plans: list[tuple[Any, Planned]]) -> None:
        """Insert the page's new people together; their plans get a (id, pco_id) row.

        The ids are read back by ``pco_id`` (unique, indexed) rather than with RETURNING, which
        would need one multi-row statement: see ``insert_rows``.
        """
        new = [i for i, (_, outcome) in enumerate(plans) if outcome == "created"]
        if not new:
            return
        Person = self.ctx.roles.model("person")
        now = utcnow()
        rows = [self._person_values(people[i], now) for i in new]
        # One executemany needs the same columns in every row: a field PCO sent for some
        # people only (a campus not pulled yet) is NULL for the others.
        columns = {column for row in rows for column in row}
        insert_rows(self.ctx, Person, [dict.fromkeys(columns) | row for row in rows])
        pco_ids = [people[i].pco_id for i in new]
        query = select(Person.pco_id, Person.id).where(Person.pco_id.in_(pco_ids))
        ids = {pco_id: row_id for pco_id, row_id in self.ctx.session.execute(query)}
        for i in new:
            plans[i] = (NewPerson(ids[people[i].pco_id], people[i].pco_id), "created")
            record(self.ctx, "person", "create", local_id=ids[people[i].pco_id],
                   pco_id=people[i].pco_id, new=self._known_values(people[i]))  # fmt: skip

    def _person_values(self, person: PersonData, now: datetime) -> dict[str, Any]:
        """A new person as INSERT parameters, linked and agreed with PCO from the start."""
        roles = self.ctx.roles
        demographics = self._known_values(person)
        synced = self._synced()
        snapshot = {k: comparable(v) for k, v in demographics.items() if k in synced}
        # A push-only or ignored field is not taken from PCO, even by a new person; the names
        # and birth date a row cannot be without (and people are matched by) always are.
        pulled = {k: v for k, v in demographics.items() if self._pulled(k)}
        return {
            **roles.columns("person", pulled),
            "pco_id": person.pco_id,
            "pco_updated_at": person.updated_at,
            "pco_synced_at": now,
            "pco_snapshot": snapshot | {"address": address_of(person)},
        }

    def _synced(self) -> frozenset[str]:
        found = self.ctx.memo.get("person_synced")
        if found is None:
            found = self.ctx.memo["person_synced"] = frozenset(self.ctx.roles.synced("person"))
        return cast("frozenset[str]", found)

    def _pulled(self, name: str) -> bool:
        """Whether a new person takes ``name`` from PCO (asked per person and field)."""
        pulled: dict[str, bool] = self.ctx.memo.setdefault("person_pulled", {})
        found = pulled.get(name)
        if found is None:
            rule = self.ctx.roles.rule("person", name)
            found = pulled[name] = rule.pulls or name in _REQUIRED_PERSON_FIELDS
        return found

    def _known_values(self, person: PersonData) -> dict[str, Any]:
        known = self._known.get(person.pco_id)
        if known is None:
            known = self.ctx.roles.known("person", self._values(person))
            self._known[person.pco_id] = known
        return known

    def _hold(self, person: PersonData, match: Match) -> None:
        self.recorder.issue(
            "ambiguous",
            "Person",
            f"{person.first_name} {person.last_name}: {match.reason}",
            pco_id=person.pco_id,
            candidates=match.candidates,
        )


def _stale(row: Any, person: PersonData) -> bool:
    """PCO's record is older than the version already applied (a late webhook, a slow page)."""
    return bool(row.pco_updated_at and person.updated_at and person.updated_at < row.pco_updated_at)
