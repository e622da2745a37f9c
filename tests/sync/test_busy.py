"""Telling SQLite's "database is locked" apart from other database errors, and waiting it out."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from flask_pco.exceptions import DatabaseBusyError
from flask_pco.sync.busy import database_is_busy, retry_while_busy


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "busy.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    return path


@pytest.fixture
def session(database: Path) -> Iterator[Session]:
    """A session whose connections give up on a lock at once (busy timeout 0)."""
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 0})
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def write_locked(database: Path) -> Iterator[None]:
    """Another connection holds the write lock for the whole test."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield
    other.execute("ROLLBACK")
    other.close()


def add_note(session: Session) -> int:
    session.execute(text("INSERT INTO notes (body) VALUES ('hello')"))
    session.commit()
    return int(session.execute(text("SELECT count(*) FROM notes")).scalar_one())


def caught(session: Session, statement: str) -> OperationalError:
    with pytest.raises(OperationalError) as info:
        session.execute(text(statement))
    session.rollback()
    return info.value


def test_a_write_while_another_connection_writes_is_busy(session: Session, write_locked) -> None:
    error = caught(session, "INSERT INTO notes (body) VALUES ('x')")
    assert "database is locked" in str(error)
    assert database_is_busy(error)


def test_a_missing_table_is_not_busy(session: Session) -> None:
    assert not database_is_busy(caught(session, "SELECT * FROM no_such_table"))


def test_errors_other_than_operational_ones_are_not_busy() -> None:
    assert not database_is_busy(IntegrityError("INSERT", {}, sqlite3.IntegrityError("dup")))
    assert not database_is_busy(ValueError("database is locked"))


def test_busy_work_is_rolled_back_and_run_again(database: Path, session: Session) -> None:
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []

    def pause_then_release(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            other.execute("COMMIT")  # the other writer is done after the second pause

    assert retry_while_busy(session, lambda: add_note(session), sleep=pause_then_release) == 1
    other.close()
    assert pauses == [0.1, 0.5]


@pytest.fixture
def read_first_session(database: Path) -> Iterator[Session]:
    """A session whose transactions begin at their first read, as SQLAlchemy's documented
    pysqlite recipe (or Python 3.12's ``autocommit=False``) makes them, waiting up to 30 s for
    a lock."""
    engine = create_engine(
        f"sqlite:///{database}", connect_args={"timeout": 30, "isolation_level": None}
    )
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_read_turned_write_is_refused_without_waiting_and_run_again(
    database: Path, read_first_session: Session
) -> None:
    """SQLite does not wait out a lock it could deadlock on (a reader becoming a writer while
    another connection writes): it says "database is locked" at once, whatever the busy timeout.
    Only rolling back and running the work again gets it through."""
    session, attempts = read_first_session, []
    other = sqlite3.connect(database, isolation_level=None)

    def read_then_write() -> int:
        attempts.append(1)
        session.execute(text("SELECT count(*) FROM notes")).scalar_one()
        if len(attempts) == 1:
            other.execute("BEGIN IMMEDIATE")  # another writer gets in between
        return add_note(session)

    added = retry_while_busy(session, read_then_write, sleep=lambda _: other.execute("COMMIT"))
    other.close()
    assert (added, len(attempts)) == (1, 2)


def test_a_lock_that_outlasts_every_pause_is_a_retriable_error(
    session: Session, write_locked
) -> None:
    slept: list[float] = []
    with pytest.raises(DatabaseBusyError, match="locked by another writer") as info:
        retry_while_busy(session, lambda: add_note(session), pauses=(0.1, 0.2), sleep=slept.append)
    assert info.value.retriable
    assert slept == [0.1, 0.2]


def test_any_other_database_error_is_raised_at_once(session: Session) -> None:
    calls: list[Any] = []

    def broken() -> None:
        calls.append(1)
        session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError, match="no such table"):
        retry_while_busy(session, broken, sleep=lambda _: pytest.fail("must not pause"))
    assert len(calls) == 1


@pytest.fixture
def postgres_rows(postgres_url: str) -> Iterator[Any]:
    """Two rows in a PostgreSQL table, and an engine whose deadlocks are found in 100 ms."""
    engine = create_engine(postgres_url, connect_args={"options": "-c deadlock_timeout=100ms"})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE busy_rows (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO busy_rows VALUES (1, 0), (2, 0)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE busy_rows"))
    engine.dispose()


def deadlock(engine: Any) -> OperationalError:
    """Two transactions each lock one row and then want the other's: PostgreSQL aborts one."""
    errors: list[OperationalError] = []
    first, second = engine.connect(), engine.connect()
    first.begin(), second.begin()
    first.execute(text("UPDATE busy_rows SET n = n + 1 WHERE id = 1"))
    second.execute(text("UPDATE busy_rows SET n = n + 1 WHERE id = 2"))

    def cross(conn: Any, row: int) -> None:
        try:
            conn.execute(text("UPDATE busy_rows SET n = n + 1 WHERE id = :id"), {"id": row})
        except OperationalError as error:
            errors.append(error)
        finally:
            conn.rollback()
            conn.close()

    waiter = threading.Thread(target=cross, args=(first, 2))
    waiter.start()
    cross(second, 1)
    waiter.join(timeout=30)
    assert len(errors) == 1
    return errors[0]


def test_a_postgresql_deadlock_is_busy(postgres_rows: Any) -> None:
    error = deadlock(postgres_rows)
    assert "deadlock detected" in str(error)
    assert database_is_busy(error)


def test_other_postgresql_operational_errors_are_not_busy(postgres_rows: Any) -> None:
    with postgres_rows.connect() as conn, pytest.raises(OperationalError) as info:
        conn.execute(text("SET statement_timeout = 10"))
        conn.execute(text("SELECT pg_sleep(1)"))
    assert "statement timeout" in str(info.value)
    assert not database_is_busy(info.value)
