"""One site, many churches: which organisation the current request, job or command is for,
and the filter that keeps every sync query to that organisation's rows.

A site registers ``@pco.organization_loader`` (like Flask-Login's user loader): in a request
it names the current church, by the host's own id for it. Jobs carry that id in their RQ
meta, the CLI takes ``--organization``, and the webhook route learns it from the
subscription whose secret signed the delivery; each then works inside
``use_organization(id)``.

While an organisation is in use, SQLAlchemy's ``with_loader_criteria`` (the documented
multi-tenant recipe) adds ``organization = <key>`` to every ORM query, UPDATE and DELETE of
the extension's tables, and ``<host column> = <id>`` to those of the host's registered models
(``register_models(organization_column=...)``); new rows get the value before they are
written. The host's own pages never use an organisation, so they are never filtered. A site
without a loader never uses one: nothing changes for a single church.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.models import PcoModels, Roles

__all__ = [
    "ALL_ORGANIZATIONS",
    "OrganizationLoader",
    "active_organization",
    "check_organization",
    "check_organization_column",
    "current_organization",
    "enter_request",
    "install_filters",
    "leave_request",
    "organization_key",
    "organization_of_key",
    "stamp_rows",
    "use_organization",
]

#: Returns the current request's organisation (the host's id for the church), or None.
OrganizationLoader = Callable[[], Any]

#: Execution option of a query that looks across organisations (the webhook route finding
#: which subscription signed a delivery).
ALL_ORGANIZATIONS = "pco_all_organizations"

#: What an organisation id may be: it becomes part of RQ job ids and Redis keys.
_VALID = re.compile(r"[A-Za-z0-9_-]{1,40}")

_current: ContextVar[str | None] = ContextVar("pco_organization", default=None)


def check_organization(value: Any) -> str:
    """The organisation id as text; a clear error for one that cannot name keys and jobs."""
    text = str(value)
    if isinstance(value, bool) or not _VALID.fullmatch(text):
        raise ConfigError(
            f"organisation id {text[:80]!r} is not usable: use 1 to 40 letters, digits, "
            "'_' or '-' (the host's id for the church)"
        )
    return text


def organization_key(organization: str) -> str:
    """What the organisation's runs, cursors, settings and job ids are stored under."""
    return f"church-{organization}"


def organization_of_key(key: str) -> str | None:
    """The organisation a stored key names (``organization_key``'s inverse), or None for
    the single church's rows."""
    prefix = organization_key("")
    return key[len(prefix) :] if key.startswith(prefix) and len(key) > len(prefix) else None


@contextmanager
def use_organization(value: Any) -> Iterator[str | None]:
    """Work for one organisation (None: the single-church site) until the block ends."""
    organization = None if value is None else check_organization(value)
    token = _current.set(organization)
    try:
        yield organization
    finally:
        _current.reset(token)


def active_organization() -> str | None:
    """The organisation in use (``use_organization``), or None."""
    return _current.get()


def enter_request(loader: OrganizationLoader | None) -> None:
    """At the start of an admin page request: use the church the host's loader names."""
    if loader is not None:
        value = loader()
        organization = None if value is None else check_organization(value)
        g._pco_organization = organization
        g._pco_organization_token = _current.set(organization)


def leave_request() -> None:
    token = g.pop("_pco_organization_token", None)
    if token is not None:
        _current.reset(token)


def current_organization(loader: OrganizationLoader | None) -> str | None:
    """The organisation in use, else, in a request, what the host's loader says (asked once
    per request), else None."""
    active = _current.get()
    if active is not None or loader is None or not has_request_context():
        return active
    if "_pco_organization" not in g:
        value = loader()
        g._pco_organization = None if value is None else check_organization(value)
    return g._pco_organization  # type: ignore[no-any-return]


def install_filters(extension: Any) -> None:
    """Keep every session's queries to the organisation in use (see the module docstring).

    ``extension`` is the ``PCO`` object, read live: the host may register its models later.
    """
    _sites.add(extension)


#: The ``PCO`` objects of sites of many churches (weakly: a test's site goes with it).
_sites: weakref.WeakSet[Any] = weakref.WeakSet()


def _filtered(organization: str) -> list[tuple[Any, str, Any]]:
    """(model, attribute, value) of every table kept to ``organization``."""
    key = organization_key(organization)
    pairs = []
    for extension in list(_sites):
        pairs += [(model, "organization", key) for model in _own_tables(extension.models)]
        pairs += _host_columns(extension.roles, organization)
    return list(dict.fromkeys(pairs))


def check_organization_column(roles: Roles) -> None:
    """Every registered model of a site of many churches has the church column: a model
    without one would be shared by every church (one church's pull matching another's rows)."""
    name = roles.organization_column
    if name is None:
        return
    missing = [
        f"{model.__name__} ({role})"
        for role, model in roles.classes.items()
        if inspect(model).columns.get(name) is None
    ]
    if missing:
        raise ConfigError(
            f"organization_column={name!r}, but {', '.join(missing)} has no column {name!r}: "
            "give every registered model the column that says whose a row is"
        )


def _own_tables(models: PcoModels) -> list[Any]:
    """The extension's tables with an ``organization`` column."""
    return [model for model in vars(models).values() if hasattr(model, "organization")]


def _host_columns(roles: Roles, organization: str) -> list[tuple[Any, str, Any]]:
    """(model, attribute, value) of each registered host model, the value in the column's
    own type (an integer church id compares as an integer)."""
    name = roles.organization_column
    if name is None:
        return []
    found = []
    for model in roles.classes.values():
        column = inspect(model).columns.get(name)
        if column is not None:
            found.append((model, name, _typed(column, organization)))
    return found


def _typed(column: Any, organization: str) -> Any:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return organization
    return python_type(organization) if python_type in (int, str) else organization


@event.listens_for(Session, "do_orm_execute")
def _add_criteria(state: ORMExecuteState) -> None:
    organization = _current.get()
    if organization is None or state.execution_options.get(ALL_ORGANIZATIONS):
        return
    pairs = _filtered(organization)
    if state.is_insert:
        _stamp_parameters(state, pairs)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    for model, attribute, value in pairs:
        state.statement = state.statement.options(
            with_loader_criteria(model, getattr(model, attribute) == value, include_aliases=True)
        )


def _stamp_parameters(state: ORMExecuteState, pairs: list[tuple[Any, str, Any]]) -> None:
    """A bulk INSERT (the journal, the pull's new rows) into a filtered table gets the value."""
    table = getattr(state.statement, "table", None)
    for model, attribute, value in pairs:
        if inspect(model).local_table is not table:
            continue
        column = inspect(model).columns[attribute].key
        params = state.parameters
        if isinstance(params, Mapping):
            state.parameters = {column: value, **params}
        elif params:
            state.parameters = [{column: value, **row} for row in params]


def stamp_rows(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` for an INSERT into ``table`` with the current church's value added, as
    ``_stamp_parameters`` does for SQLAlchemy's own INSERTs, for writers that go to the driver
    directly (``sync/bulk.py``); a row that names the column keeps its value."""
    organization = _current.get()
    if organization is None or not rows:
        return rows
    for model, attribute, value in _filtered(organization):
        if inspect(model).local_table is table:
            column = inspect(model).columns[attribute].key
            return [{column: value, **row} for row in rows]
    return rows


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    organization = _current.get()
    if organization is None:
        return
    pairs = _filtered(organization)
    for row in session.new:
        for model, attribute, value in pairs:
            if isinstance(row, model) and getattr(row, attribute, None) in (None, ""):
                setattr(row, attribute, value)
