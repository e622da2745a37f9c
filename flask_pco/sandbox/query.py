"""Collection queries as PCO reads them: offset paging, ``where``, ``order``, ``filter`` (§1.2-1.6)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask_pco.sandbox.search import SEARCHES
from flask_pco.sandbox.specs import ResourceSpec
from flask_pco.sandbox.store import Store, utc_stamp

WHERE_KEY = re.compile(r"^where\[(\w+)\](?:\[(gt|gte|lt|lte)\])?$")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
COMPARE: dict[str, Callable[[str, str], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


@dataclass
class Query:
    """The parsed query string of one collection request."""

    offset: int = 0
    per_page: int = DEFAULT_PER_PAGE
    where: list[tuple[str, str | None, str]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def parse_query(args: Any, spec: ResourceSpec) -> Query:
    """Read paging, ``where`` and ``order``; unknown ``where`` keys are ignored, as PCO does."""
    query = Query(
        offset=max(0, _int(args.get("offset"), 0)),
        per_page=min(MAX_PER_PAGE, max(1, _int(args.get("per_page"), DEFAULT_PER_PAGE))),
        filters=[f for f in (args.get("filter") or "").split(",") if f],
    )
    for key, value in args.items(multi=True):
        match = WHERE_KEY.match(key)
        if match and match.group(1) in spec.can_query_by:
            query.where.append((match.group(1), match.group(2), value))
    for name in (args.get("order") or "").split(","):
        if name.lstrip("-") in spec.can_order_by:
            query.order.append((name.lstrip("-"), name.startswith("-")))
    return query


def typed_value(kind: str, value: str) -> Any:
    """A ``where`` string as the stored Python value it must equal (empty means null)."""
    if value == "":
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(value.lower(), value)
    if kind == "integer":
        return int(value) if value.lstrip("-").isdigit() else value
    return value


def time_bound(value: str, operator: str | None, zone: str) -> str:
    """A ``where`` time as a UTC stamp; a date alone is a whole local day in the org's zone."""
    if DATE_ONLY.match(value):
        day = datetime.strptime(value, "%Y-%m-%d").date()
        start = datetime.combine(day, time(), ZoneInfo(zone))
        if operator in ("gt", "lte"):
            return utc_stamp((start + timedelta(days=1) - timedelta(seconds=1)).astimezone(UTC))
        return utc_stamp(start.astimezone(UTC))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return utc_stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _condition(
    spec: ResourceSpec, store: Store, zone: str, clause: tuple[str, str | None, str]
) -> Callable[[dict[str, Any]], bool]:
    attr, operator, value = clause
    if attr in SEARCHES:
        search = SEARCHES[attr]
        return lambda record: search(store, record, value)
    if spec.kind_of(attr) == "date_time":
        value = time_bound(value, operator, zone)
    if operator:
        compare = COMPARE[operator]
        return lambda record: record.get(attr) is not None and compare(record[attr], value)
    wanted = typed_value(spec.kind_of(attr), value)
    return lambda record: record.get(attr) == wanted


def _order_key(attr: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    def key(record: dict[str, Any]) -> tuple[bool, Any]:
        value = record.get(attr)
        return (value is None, value if value is not None else 0)

    return key


def select(
    spec: ResourceSpec,
    records: Iterable[dict[str, Any]] | None,
    query: Query,
    store: Store,
    zone: str,
) -> list[dict[str, Any]]:
    """Filter then sort (``records`` None means the whole table).

    Sorts are stable over id order, so ties keep id order and paging stays stable.
    """
    if records is None and not (query.where or query.filters or query.order):
        return store.in_order(spec.table)  # the common unfiltered page: no per-request copy
    if records is None:
        indexed = _indexed_select(spec, query, store, zone)
        if indexed is not None:
            return indexed
        records = _narrowed(spec, query, store)
    conditions = [_condition(spec, store, zone, clause) for clause in query.where]
    conditions += [
        FILTERS[(spec.key, name)] for name in query.filters if (spec.key, name) in FILTERS
    ]
    if not conditions:
        chosen = list(records)
    elif len(conditions) == 1:
        only = conditions[0]
        chosen = [r for r in records if only(r)]
    else:
        chosen = [r for r in records if all(check(r) for check in conditions)]
    for attr, descending in reversed(query.order):
        chosen.sort(key=_order_key(attr), reverse=descending)
    return chosen


def _narrowed(spec: ResourceSpec, query: Query, store: Store) -> Iterable[dict[str, Any]]:
    """Candidates for an exact match on an indexed column (``where[address]``,
    ``where[remote_id]``: how a sync matches people), else the whole table."""
    table = store.table(spec.table)
    for attr, operator, value in query.where:
        if operator is None and store.indexed(spec.table, attr):
            ids = store.lookup(spec.table, attr, typed_value(spec.kind_of(attr), value))
            return [table[record_id] for record_id in ids]
    return table.values()


def _indexed_select(
    spec: ResourceSpec, query: Query, store: Store, zone: str
) -> list[dict[str, Any]] | None:
    """Answer a time-range query or a time sort from a cached sorted list with bisect.

    This is the incremental-sync shape (``where[updated_at][gte]=...&order=updated_at``); it must
    not do O(N) work per page on 50,000 people. Anything else returns None (the general path).
    """
    columns = {attr for attr, _, _ in query.where} | {attr for attr, _ in query.order}
    if len(columns) != 1 or query.filters or len(query.order) > 1:
        return None
    column = columns.pop()
    table = store.table(spec.table)
    if spec.kind_of(column) != "date_time" or any(op is None for _, op, _ in query.where):
        return None
    if not table or not next(iter(table)).isdigit():
        return None
    ordered, keys = store.sorted_by(spec.table, column)
    if not query.where and len(ordered) != len(table):
        return None  # nulls exist; the general path knows where they sort
    low, high = 0, len(keys)
    for _, operator, value in query.where:
        bound = time_bound(value, operator, zone)
        if operator in ("gte", "gt"):
            low = max(low, (bisect_left if operator == "gte" else bisect_right)(keys, bound))
        else:
            high = min(high, (bisect_right if operator == "lte" else bisect_left)(keys, bound))
    chosen = ordered[low:high]
    if not query.order:
        return _in_id_order(chosen, table)
    elif query.order[0][1]:
        chosen.sort(key=lambda record: record[column], reverse=True)
    return chosen


def _in_id_order(
    chosen: list[dict[str, Any]], table: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Restore id order: sort a small result, or sweep the (id-ordered) table for a large one
    (a set-membership sweep measured 4x faster than sorting 40,000 records or comparing keys)."""
    if len(chosen) < 2000:
        return sorted(chosen, key=lambda record: int(record["id"]))  # ids grow with insertion
    wanted = {id(record) for record in chosen}
    return [record for record in table.values() if id(record) in wanted]


def _future(record: dict[str, Any]) -> bool:
    return (record.get("ends_at") or "") >= utc_stamp()


def _not_archived(record: dict[str, Any]) -> bool:
    return record.get("archived_at") is None


FILTERS: dict[tuple[str, str], Callable[[dict[str, Any]], bool]] = {
    ("EventInstance", "future"): _future,
    ("EventInstance", "past"): lambda record: not _future(record),
    ("CheckInEvent", "not_archived"): _not_archived,
    ("CheckInEvent", "archived"): lambda record: not _not_archived(record),
    ("CheckIn", "checked_out"): lambda record: record.get("checked_out_at") is not None,
    ("CheckIn", "not_checked_out"): lambda record: record.get("checked_out_at") is None,
}


def page_url(base_url: str, path: str, args: Any, offset: int, per_page: int) -> str:
    """A paging link: params sorted, ``where[...]`` brackets left unencoded, as PCO writes them."""
    pairs = [(k, v) for k, v in args.items(multi=True) if k not in ("offset", "per_page")]
    pairs += [("offset", str(offset)), ("per_page", str(per_page))]
    text = "&".join(f"{quote(k, safe='[]')}={quote(v, safe=':')}" for k, v in sorted(pairs))
    return f"{base_url.rstrip('/')}{path}?{text}"


def paging(
    total: int, query: Query, base_url: str, path: str, args: Any
) -> tuple[dict[str, str], dict[str, Any]]:
    """``links`` and the paging part of ``meta``; next/prev appear only when such a page exists."""
    links = {"self": page_url(base_url, path, args, query.offset, query.per_page)}
    meta: dict[str, Any] = {}
    if query.offset > 0:
        prev = max(0, query.offset - query.per_page)
        links["prev"] = page_url(base_url, path, args, prev, query.per_page)
        meta["prev"] = {"offset": prev}
    if query.offset + query.per_page < total:
        nxt = query.offset + query.per_page
        links["next"] = page_url(base_url, path, args, nxt, query.per_page)
        meta["next"] = {"offset": nxt}
    return links, meta
