"""A database too busy to take this transaction now, told apart from every other error and
waited out.

SQLite lets one connection write at a time. A writer waits for the lock up to the connection's
busy timeout, but it polls rather than queues, so under a steady stream of writers (a webhook
storm) one can lose every race until its timeout passes; and SQLite does not wait at all when
waiting could deadlock. PostgreSQL breaks a deadlock (a webhook and a sync run updating the same
rows in another order) by aborting one transaction, and under serializable isolation aborts one
that conflicts. Either way nothing was written, and the same work succeeds once the other writer
is done: roll back, pause, try again. Any other error goes up untouched.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_chain,
    wait_fixed,
)

from flask_pco.exceptions import DatabaseBusyError

__all__ = ["BUSY_PAUSES", "database_is_busy", "retry_while_busy"]

T = TypeVar("T")

#: Seconds to pause before each further attempt; each attempt also waits the busy timeout.
BUSY_PAUSES = (0.1, 0.5, 2.0)

#: PostgreSQL's "run the transaction again" states: deadlock_detected, serialization_failure.
_POSTGRES_RETRY_STATES = frozenset({"40P01", "40001"})


def database_is_busy(error: BaseException) -> bool:
    """True only for SQLite's ``SQLITE_BUSY`` (any extended code) and PostgreSQL's deadlock and
    serialization failures. A missing table, a full disk or a read-only file are not busy and
    stay errors."""
    original = error.orig if isinstance(error, OperationalError) else None
    if isinstance(original, sqlite3.OperationalError):
        return (original.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_BUSY
    return getattr(original, "sqlstate", None) in _POSTGRES_RETRY_STATES


def retry_while_busy(
    session: Any,
    work: Callable[[], T],
    *,
    pauses: tuple[float, ...] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work``, which commits its own changes; while the database is busy, roll the
    session back and run it again after each pause (default ``BUSY_PAUSES``). Still busy at the
    end: ``DatabaseBusyError``, retriable. Any other error goes up at once."""
    waits = BUSY_PAUSES if pauses is None else pauses
    retrying = Retrying(
        retry=retry_if_exception(database_is_busy),
        stop=stop_after_attempt(len(waits) + 1),
        wait=wait_chain(*(wait_fixed(pause) for pause in waits)),
        sleep=sleep,
    )

    def attempt() -> T:
        try:
            return work()
        except OperationalError as error:
            if database_is_busy(error):
                session.rollback()
            raise

    try:
        return retrying(attempt)
    except RetryError as exhausted:
        error = exhausted.last_attempt.exception()
        original = getattr(error, "orig", error)
        raise DatabaseBusyError(
            f"the database stayed locked by another writer: {original}"
        ) from error
