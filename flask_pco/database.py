"""One-line messages for the database problems a site meets while setting flask-pco up.

The two usual ones are tables that do not exist yet (``flask db upgrade`` not run, or no
migration made for flask-pco's tables) and a database that cannot be reached (a wrong
``DATABASE_URL``, a server that is down). Both otherwise end in long driver tracebacks that
never name the URL; here they become one line that names it, without its password.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from flask_pco.exceptions import ConfigError
from flask_pco.redaction import redact

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["check_tables", "describe_database_error", "request_failed_on_database", "safe_url"]

UPGRADE = "run `flask db upgrade` (after `flask db migrate` if no migration creates it yet)"

#: Driver messages for a missing table or column: SQLite's, then PostgreSQL's.
_MISSING = (
    (re.compile(r"no such table: (\S+)"), "table"),
    (re.compile(r'relation "([^"]+)" does not exist'), "table"),
    (re.compile(r"no such column: (\S+)"), "column"),
    (re.compile(r"has no column named (\S+)"), "column"),
    (re.compile(r'column "?([^" ]+)"? (?:of relation "[^"]+" )?does not exist'), "column"),
)


def safe_url(url: Any) -> str:
    """The database URL as the site configured it, with any password shown as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say so rather than fail while describing a failure
        return "(an unreadable URL)"


def describe_database_error(error: DBAPIError, url: Any) -> str:
    """One line saying what went wrong with the database at ``url`` and what to do."""
    where = safe_url(url)
    detail = _first_line(redact(error.orig)) or _first_line(redact(error))
    for pattern, thing in _MISSING:
        found = pattern.search(detail)
        if found:
            return f"the database {where} has no {thing} {found.group(1)}: {UPGRADE}"
    if error.statement is None:  # raised while connecting, before any statement was sent
        return f"cannot reach the database at {where}: {detail}"
    return f"the database at {where} refused a statement: {detail}"


def check_tables(state: PcoState) -> None:
    """Fail with one line when flask-pco's tables or the registered models' tables are missing.

    Workers and the scheduler check this when they start, so a site that forgot to migrate
    hears it once, at once, rather than from every job.
    """
    engine = state.db.engine
    present = set(sa_inspect(engine).get_table_names())
    tables = [getattr(state.models, f.name).__tablename__ for f in fields(state.models)]
    tables += [getattr(model, "__tablename__", "") for model in state.roles.classes.values()]
    missing = [table for table in dict.fromkeys(tables) if table and table not in present]
    if missing:
        names = ", ".join(missing)
        raise ConfigError(f"the database {safe_url(engine.url)} has no table {names}: {UPGRADE}")


def request_failed_on_database(error: DBAPIError) -> str:
    """For the admin page and the webhook route: log the one line, end the failed transaction,
    and return the line to show."""
    from flask import current_app

    from flask_pco.state import current_pco

    state = current_pco()
    state.db.session.rollback()
    message = describe_database_error(error, state.db.engine.url)
    current_app.logger.error("flask-pco: %s", message)
    return message


def _first_line(value: Any) -> str:
    text = str(value or "").strip()
    return text.splitlines()[0].strip() if text else ""
