"""A dry run is the real run without writes: the same code, on a scratch database and a PCO
that only pretends to write.

Anything else drifts. A dry run with its own code path counts what that path thinks the real
one would do, and the two disagree the moment a step depends on an earlier one (a family push
after the people push it needs, a second family of the same person, a removal that needs two
looks). So the dry run runs every step exactly as the real one does, with two substitutions:

* **the database**: the steps write to a scratch copy that is thrown away. On SQLite it is an
  in-memory copy of the database (SQLite's backup API), so the real file is never locked for
  the run's length; on PostgreSQL, one transaction that is rolled back at the end, its commits
  only savepoints. The run's own row (progress, counts, heartbeat) is written to the real
  database as usual, so the admin page and the CLI follow a dry run like any other.
* **PCO**: reads go to PCO; writes are answered by ``PlannedWrites`` the way PCO answers them
  (a new id, the record as sent) and remembered, so that a later read of what was "created"
  (a household's memberships, a new person's households, a group's members) sees it as it would
  in the real run. Nothing is sent.

The counts are then the real run's counts on the same data.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from flask_pco.client.jsonapi import Document, Resource, parse_document, parse_resource
from flask_pco.client.session import ResourceIterator, _relationship
from flask_pco.models import utcnow
from flask_pco.sync.announce import mark_dry_run

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.state import PcoState

__all__ = ["PlannedWrites", "scratch_session"]

#: Ids the dry run gives to what it "creates"; PCO's own ids are digits, so they never meet.
_PREFIX = "dry-"
_SYNTHETIC = re.compile(rf"{_PREFIX}\d+")
_PERSON_CHILD = re.compile(r"^/people/v2/people/([^/]+)/(emails|phone_numbers|addresses)$")
_HOUSEHOLD_MEMBERS = re.compile(r"^/people/v2/households/([^/]+)/household_memberships$")
_PERSON_HOUSEHOLDS = re.compile(r"^/people/v2/people/([^/]+)/households$")
_GROUP_MEMBERS = re.compile(r"^/groups/v2/groups/([^/]+)/memberships$")
_ONE_PERSON = re.compile(r"^/people/v2/people/([^/]+)$")
_ONE_HOUSEHOLD = re.compile(r"^/people/v2/households/([^/]+)$")


@contextmanager
def scratch_session(state: PcoState) -> Iterator[Session]:
    """A session over a throw-away copy of the host database (see the module docstring)."""
    engine = state.db.engine
    if engine.dialect.name == "sqlite":
        with _sqlite_copy(engine) as session:
            yield session
        return
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    mark_dry_run(session)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@contextmanager
def _sqlite_copy(engine: Any) -> Iterator[Session]:
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    source = engine.raw_connection()
    try:
        source.driver_connection.backup(memory)
    finally:
        source.close()
    copy = create_engine("sqlite://", creator=lambda: memory, poolclass=StaticPool)
    session = Session(bind=copy)
    mark_dry_run(session)
    try:
        yield session
    finally:
        session.close()
        copy.dispose()
        memory.close()


class PlannedWrites:
    """A PCO client whose reads are PCO's and whose writes are only planned.

    Every other attribute (``request_count``, ``versions``...) is the real client's.
    """

    def __init__(self, client: PcoClient) -> None:
        self._client = client
        self._ids = itertools.count(1)
        #: What a real run would have sent: (method, path, type, attributes).
        self.writes: list[tuple[str, str, str, dict[str, Any]]] = []
        self._records: dict[str, dict[str, Any]] = {}
        self._children: dict[str, list[str]] = defaultdict(list)  # owner id → record ids
        self._households_of: dict[str, list[str]] = defaultdict(list)
        #: The attributes of what PCO answered, so a planned PATCH answers with the whole record
        #: (as PCO does) rather than the changed fields alone.
        self._seen: dict[tuple[str, str], Mapping[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        path: str,
        type_: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None = None,
    ) -> Resource:
        self.writes.append(("POST", path, type_, dict(attributes)))
        links = {k: _relationship(v) for k, v in (relationships or {}).items()}
        raw = self._record(type_, dict(attributes), links)
        owner = next((m.group(1) for m in _owners(path)), None)
        if owner is not None:
            self._children[owner].append(raw["id"])
            self._relate(owner, path, raw)
        if type_ == "Household":
            self._household(raw, links)
        if type_ == "HouseholdMembership" and owner is not None:
            person = (links.get("person") or {}).get("data") or {}
            self._member(owner, str(person.get("id", "")), raw)
        return parse_resource(raw)

    def update(self, path: str, type_: str, id_: str, attributes: Mapping[str, Any]) -> Resource:
        self.writes.append(("PATCH", path, type_, dict(attributes)))
        known = self._records.get(str(id_), {}).get("attributes") or self._seen.get(
            (type_, str(id_)), {}
        )
        merged = {**known, **attributes, "updated_at": _now()}
        return parse_resource({"type": type_, "id": str(id_), "attributes": merged})

    def delete(self, path: str) -> None:
        """Planned only: an undo's delete of a record a push created."""
        self.writes.append(("DELETE", path, "", {}))

    # -- reads -------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Document:
        if _SYNTHETIC.search(path) is None:
            return self._remember(self._client.get(path, params))
        match = _ONE_PERSON.match(path) or _ONE_HOUSEHOLD.match(path)
        record = self._records.get(match.group(1)) if match else None
        if record is None:
            return _document([])
        return _document([record], [self._records[i] for i in self._children[record["id"]]])

    def pages(self, path: str, **options: Any) -> Iterator[Document]:
        extra = self._listed(path)
        if _SYNTHETIC.search(path) is None:
            yield from map(self._remember, self._client.pages(path, **options))
        if extra:
            yield _document(extra, self._people_of(extra))

    def iterate(self, path: str, **options: Any) -> ResourceIterator:
        return ResourceIterator(self.pages(path, **options))

    def _remember(self, document: Document) -> Document:
        for resource in document.data:
            self._seen[(resource.type, resource.id)] = resource.attributes
        return document

    # -- the planned records -----------------------------------------------------------------

    def _record(
        self, type_: str, attributes: dict[str, Any], relationships: dict[str, Any]
    ) -> dict[str, Any]:
        now, record_id = _now(), f"{_PREFIX}{next(self._ids)}"
        raw: dict[str, Any] = {
            "type": type_,
            "id": record_id,
            "attributes": {**attributes, "created_at": now, "updated_at": now},
            "relationships": relationships,
        }
        self._records[record_id] = raw
        return raw

    def _relate(self, owner: str, path: str, raw: dict[str, Any]) -> None:
        """A contact planned for a planned person shows in that person's relationships, as an
        ``include`` of them would."""
        match = _PERSON_CHILD.match(path)
        person = self._records.get(owner)
        if match and person is not None:
            related = person["relationships"].setdefault(match.group(2), {"data": []})
            related["data"].append({"type": raw["type"], "id": raw["id"]})

    def _household(self, raw: dict[str, Any], links: dict[str, Any]) -> None:
        """PCO makes a membership for each person a new household names."""
        for person in (links.get("people") or {}).get("data") or []:
            membership = self._record(
                "HouseholdMembership",
                {"pending": False, "person_id": person["id"]},
                {"person": {"data": person}},
            )
            self._children[raw["id"]].append(membership["id"])
            self._member(raw["id"], str(person["id"]), membership)

    def _member(self, household_id: str, person_id: str, membership: dict[str, Any]) -> None:
        membership["attributes"].setdefault("person_id", person_id)
        household = self._records.get(household_id)
        if household is not None:
            people = household["relationships"].setdefault("people", {"data": []})
            if all(p["id"] != person_id for p in people["data"]):
                people["data"].append({"type": "Person", "id": person_id})
        if household_id not in self._households_of[person_id]:
            self._households_of[person_id].append(household_id)

    def _listed(self, path: str) -> list[dict[str, Any]]:
        """What a listing of ``path`` would show of the planned records."""
        households = _PERSON_HOUSEHOLDS.match(path)
        if households is not None:
            ids = self._households_of.get(households.group(1), [])
        else:
            members = _HOUSEHOLD_MEMBERS.match(path) or _GROUP_MEMBERS.match(path)
            ids = self._children.get(members.group(1), []) if members is not None else []
        return [self._records[i] for i in ids]

    def _people_of(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = {
            p["id"]
            for r in records
            for p in (r["relationships"].get("people") or {}).get("data") or []
        }
        return [self._records[i] for i in ids if i in self._records]


def _owners(path: str) -> Iterator[re.Match[str]]:
    for pattern in (_PERSON_CHILD, _HOUSEHOLD_MEMBERS, _GROUP_MEMBERS):
        match = pattern.match(path)
        if match:
            yield match


def _document(data: list[dict[str, Any]], included: list[dict[str, Any]] = ()) -> Document:  # type: ignore[assignment]
    return parse_document({"data": data, "included": list(included), "meta": {}, "links": {}})


def _now() -> str:
    return utcnow().isoformat(timespec="seconds") + "Z"
