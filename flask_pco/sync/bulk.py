"""Bulk INSERTs through the driver's executemany, with SQLAlchemy's own statement and values.

SQLAlchemy processes every row of an executemany in Python (parameter construction, bind
processing) before the driver sees it: on a first pull that cost more than the driver's own
work. ``insert_many`` compiles the statement SQLAlchemy would run once per table and set of
keys, turns each row into the tuple or dict the driver takes through the same bind processors
and Python-side column defaults, and runs it on the session's connection, in its transaction
(``before_cursor_execute`` listeners still see it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import insert

from flask_pco.tenancy import stamp_rows

__all__ = ["insert_many"]


def insert_many(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (column keys as keys) into ``table``: one executemany per set of keys."""
    if not rows:
        return
    rows = stamp_rows(table, rows)  # a church's rows carry its organization, as SQLAlchemy's do
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    connection = session.connection()
    for keys, group in groups.items():
        plan = _insert_plan(table, keys, connection.dialect)
        if plan is None:  # a column default that needs SQLAlchemy's execution context
            session.execute(insert(table), group)
            continue
        connection.exec_driver_sql(plan.sql, [plan.parameters(row.values()) for row in group])


@dataclass(frozen=True)
class _InsertPlan:
    """A compiled INSERT and how one row's values become the driver's parameters."""

    sql: str
    names: tuple[str, ...]
    positional: bool
    #: Per parameter, in the statement's order: its index in the row's values followed by the
    #: values of ``defaults`` (the statement's columns the row does not give).
    picks: tuple[int, ...]
    defaults: tuple[Callable[[], Any], ...]
    #: (parameter index, bind processor) for the parameters whose type has one.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, values: Iterable[Any]) -> tuple[Any, ...] | dict[str, Any]:
        row = (*values, *(default() for default in self.defaults))
        out = [row[i] for i in self.picks]
        for i, process in self.processors:
            out[i] = process(out[i])
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))


#: Compiled INSERTs by (table, column keys, dialect name): a pull makes a handful.
_PLANS: dict[tuple[Any, tuple[str, ...], str], _InsertPlan | None] = {}


def _insert_plan(table: Any, keys: tuple[str, ...], dialect: Any) -> _InsertPlan | None:
    """The INSERT SQLAlchemy itself would run for an executemany of rows with ``keys``."""
    cache_key = (table, keys, dialect.name)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    defaults: dict[str, Callable[[], Any] | None] = {}
    for column in compiled.insert_prefetch:
        default = _plain_default(column.default)
        if default is False:
            _PLANS[cache_key] = None
            return None
        defaults[column.key] = default  # type: ignore[assignment]
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or () if positional else compiled.params)
    by_key = {key: i for i, key in enumerate(keys)}
    types = {c.key: c.type for c in table.columns}
    if not set(names) <= types.keys():  # a bind name escaped from its column's key
        _PLANS[cache_key] = None
        return None
    missing = [name for name in names if name not in by_key]
    picks = {**by_key, **{name: len(keys) + i for i, name in enumerate(missing)}}
    processors = ((i, types[name]._cached_bind_processor(dialect)) for i, name in enumerate(names))
    plan = _InsertPlan(
        sql=compiled.string,
        names=names,
        positional=positional,
        picks=tuple(picks[name] for name in names),
        defaults=tuple(defaults.get(name) or _none for name in missing),
        processors=tuple((i, process) for i, process in processors if process is not None),
    )
    _PLANS[cache_key] = plan
    return plan


def _none() -> None:
    return None


def _plain_default(default: Any) -> Callable[[], Any] | bool | None:
    """A Python-side column default as a function of no arguments; None for no default, False
    for one that needs SQLAlchemy's execution context (a function of the row being inserted)."""
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    wrapped = getattr(default.arg, "__wrapped__", None)  # SQLAlchemy wraps a no-argument one
    if default.is_callable and wrapped is not None and _takes_no_arguments(wrapped):
        return cast(Callable[[], Any], wrapped)
    return False


def _takes_no_arguments(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )
