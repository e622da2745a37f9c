"""What every command module shares: one-line errors and the exit codes a cron job reads.

``sync`` and ``push`` run inline exit 0 only when every record went through; 1 when the run
failed (or never began: bad arguments, configuration); 3 when its removals wait for approval;
4 when it finished but left records failed or held (``flask pco issues`` says which).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from flask_pco.database import describe_database_error
from flask_pco.exceptions import PcoError
from flask_pco.redaction import first_line
from flask_pco.state import current_pco


class NeedsApproval(click.ClickException):
    """The run ended, but its removals wait for an admin: exit code 3, so a cron job can tell."""

    exit_code = 3


class RecordsLeft(click.ClickException):
    """The run finished, but some records failed or wait for an admin: exit code 4, so a
    scheduled script can tell a clean run from one that left people unpushed."""

    exit_code = 4


def database_problem(error: DBAPIError) -> str:
    """Say which database failed and how, in one line."""
    try:
        url: Any = current_pco().db.engine.url
    except Exception:  # the message still says what failed, only not where
        url = None
    return describe_database_error(error, url)


def redis_problem_line(error: BaseException) -> str | None:
    """The one line for a Redis that does not answer, or None if ``error`` is something else.

    Redis is imported only by commands that use it, so an error can only be Redis' once it is.
    """
    exceptions = sys.modules.get("redis.exceptions")
    if exceptions is None or not isinstance(error, exceptions.RedisError):
        return None
    from flask_pco.jobs.outage import redis_down_message

    return redis_down_message(current_pco(), error)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a flask-pco failure inside a command into Click's one-line error, exit code 1."""
    try:
        yield
    except PcoError as error:
        raise click.ClickException(first_line(error)) from None


def positive_limit(limit: int) -> int:
    """Refuse a ``--limit`` below one before anything is read."""
    if limit < 1:
        raise click.ClickException(f"--limit must be at least 1, got {limit}")
    return limit
