"""PostgreSQL connections terminated in the middle of an inline pull: the run still ends with
a status and one line, and running it again finishes the job."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from example_app.models import Person
from flask_pco.extension import current_pco
from tests.conftest import POSTGRES_ADMIN_URL


def terminate_connections_after(seconds: float, database: str) -> threading.Thread:
    """Kill every server process of ``database`` once, as a failover or an admin would."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def terminate() -> None:
        time.sleep(seconds)
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            )
        admin.dispose()

    thread = threading.Thread(target=terminate)
    thread.start()
    return thread


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_terminated_connections_end_the_run_in_one_line_and_a_rerun_completes(
    sandbox_cli: Any, sandbox: Any
) -> None:
    sandbox.reset(people=60, seed=4)
    # 15 pages of 4, two at a time (lookahead): a pull of ~1.5 s, so the kill lands mid-run
    sandbox.set_faults(latency_ms=150)
    pco = sandbox_cli()
    database = current_pco().db.engine.url.database

    killer = terminate_connections_after(0.8, database)
    first = pco("sync", "people")
    killer.join()

    assert first.exit_code == 1, first.output
    assert "Traceback" not in first.output
    *_, summary, error = first.output.strip().splitlines()
    assert summary.startswith("pull people failed"), first.output
    assert error.startswith("Error: run ") and "OperationalError" in error, first.output
    state = current_pco()
    state.db.session.rollback()
    runs = list(state.db.session.scalars(select(state.models.SyncRun)))
    assert all(run.status not in ("queued", "running") for run in runs)
    sandbox.set_faults()
    again = pco("sync", "people")
    assert again.exit_code == 0, again.output
    assert state.db.session.scalar(select(func.count()).select_from(Person)) == 60
