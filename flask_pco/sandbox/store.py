"""In-memory records with foreign-key indexes, change stamps and change listeners.

Records are plain dicts holding ``id``, attribute values and foreign keys (``person_id`` ...).
Tables keep insertion order, and ids grow with insertion, so a table's order is id order: the
default sort and the tie-breaker for every ``order=`` come for free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

#: First id per table; distinct ranges make a mixed-up id obvious in a test failure.
ID_BASES = {
    "Person": 90000001,
    "Email": 51000001,
    "PhoneNumber": 62000001,
    "Address": 73000001,
    "Household": 81000001,
    "HouseholdMembership": 82000001,
    "List": 2200001,
    "ListResult": 23000001,
    "PersonMerger": 4400001,
    "Organization": 300001,
    "GroupType": 120001,
    "Group": 1500001,
    "GroupLocation": 1600001,
    "Membership": 3300001,
    "CheckInEvent": 700001,
    "Location": 5500001,
    "Station": 5600001,
    "Label": 5700001,
    "CheckIn": 990000001,
    "CheckInLocation": 991000001,
    "Headcount": 6600001,
    "EventPeriod": 44000001,
    "EventTime": 8800001,
    "AttendanceType": 770001,
    "CalendarEvent": 1900001,
    "EventInstance": 31000001,
    "Subscription": 4410001,
    "FieldDefinition": 610001,
    "FieldOption": 620001,
    "FieldDatum": 63000001,
}

Listener = Callable[[str, str, dict[str, Any]], None]


def utc_stamp(moment: datetime | None = None) -> str:
    """PCO's date_time rendering; fixed width, so string order is time order."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Tables of records; every public method must be called with ``lock`` held."""

    def __init__(self, index_columns: dict[str, set[str]]) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.listeners: list[Listener] = []
        #: Where change stamps come from; the generator swaps in its own ``now``.
        self.clock: Callable[[], str] = utc_stamp
        self._columns = index_columns
        self._indexes: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        self._next_ids: dict[str, int] = {}
        #: Bumped on every change to a table, so cached sort orders know when they are stale.
        self._versions: dict[str, int] = {}
        self._sorted: dict[tuple[str, str], tuple[int, list[dict[str, Any]], list[Any]]] = {}

    def clear(self) -> None:
        self.tables.clear()
        self._sorted.clear()
        self._versions.clear()
        self._indexes.clear()
        self._next_ids.clear()

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        return self.tables.setdefault(name, {})

    def get(self, table: str, record_id: str | None) -> dict[str, Any] | None:
        return self.tables.get(table, {}).get(str(record_id)) if record_id is not None else None

    def lookup(self, table: str, column: str, value: Any) -> list[str]:
        """Ids of records whose indexed ``column`` equals ``value``, in insertion order."""
        return list(self._indexes.get((table, column), {}).get(value, ()))

    def indexed(self, table: str, column: str) -> bool:
        return column in self._columns.get(table, ())

    def insert(self, table: str, record: dict[str, Any], emit: bool = True) -> dict[str, Any]:
        """Store a new record, giving it an id and creation stamps unless it brings its own."""
        record = dict(record)
        record["id"] = str(record.get("id") or self._new_id(table))
        self._bump_next_id(table, record["id"])
        record.setdefault("created_at", self.clock())
        record.setdefault("updated_at", record["created_at"])
        self.table(table)[record["id"]] = record
        self._index(table, record, add=True)
        if emit:
            self.notify(table, "created", record)
        return record

    def update(
        self, table: str, record_id: str, changes: dict[str, Any], emit: bool = True
    ) -> dict[str, Any]:
        """Apply changes and bump ``updated_at`` (every change does, as in PCO)."""
        record = self.tables[table][record_id]
        self._index(table, record, add=False)
        record.update(changes)
        record["updated_at"] = self.clock()
        self._index(table, record, add=True)
        if emit:
            self.notify(table, "updated", record)
        return record

    def delete(self, table: str, record_id: str, emit: bool = True) -> dict[str, Any]:
        record = self.tables[table].pop(record_id)
        self._index(table, record, add=False)
        if emit:
            self.notify(table, "destroyed", record)
        return record

    def delete_where(self, table: str, column: str, value: Any) -> list[dict[str, Any]]:
        """Silently drop dependent records (cascades do not fire webhooks of their own)."""
        return [self.delete(table, rid, emit=False) for rid in self.lookup(table, column, value)]

    def counts(self) -> dict[str, int]:
        return {name: len(records) for name, records in self.tables.items()}

    def _new_id(self, table: str) -> int:
        return self._next_ids.get(table, ID_BASES.get(table, 10000001))

    def _bump_next_id(self, table: str, record_id: str) -> None:
        if record_id.isdigit():
            self._next_ids[table] = max(self._new_id(table), int(record_id) + 1)

    def in_order(self, table: str) -> list[dict[str, Any]]:
        """All records of a table in id order, as a cached list (callers must not mutate it)."""
        return self.sorted_by(table, "")[0]

    def sorted_by(self, table: str, column: str) -> tuple[list[dict[str, Any]], list[Any]]:
        """Records with a non-null ``column``, sorted by it (ties in id order), and their keys.

        Cached until the table next changes, so paging a large table by ``updated_at`` sorts once.
        """
        version = self._versions.get(table, 0)
        cached = self._sorted.get((table, column))
        if cached is None or cached[0] != version:
            records = list(self.table(table).values())
            if column:  # "" means plain id order
                records = [r for r in records if r.get(column) is not None]
                records.sort(key=lambda record: record[column])
            cached = (version, records, [record.get(column) for record in records])
            self._sorted[(table, column)] = cached
        return cached[1], cached[2]

    def _index(self, table: str, record: dict[str, Any], add: bool) -> None:
        self._versions[table] = self._versions.get(table, 0) + 1
        for column in self._columns.get(table, ()):
            bucket = self._indexes.setdefault((table, column), {}).setdefault(
                record.get(column), {}
            )
            if add:
                bucket[record["id"]] = None
            else:
                bucket.pop(record["id"], None)

    def notify(self, table: str, action: str, record: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(table, action, record)


def insert_many(store: Store, table: str, records: Iterable[dict[str, Any]]) -> list[str]:
    """Bulk insert without webhooks (generated data is the starting state, not a change)."""
    return [store.insert(table, record, emit=False)["id"] for record in records]
