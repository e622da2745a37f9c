"""Helpers shared by test modules and by the subprocesses some tests start."""

from __future__ import annotations

from typing import Any

#: The sandbox's default credentials (``create_sandbox_app`` defaults).
SANDBOX_CREDENTIALS = {"PCO_APP_ID": "sandbox", "PCO_SECRET": "sandbox-secret"}
#: A budget no test reaches, for tests about data rather than rate.
NO_RATE_LIMIT = {"PCO_RATE_LIMIT": 100_000, "PCO_RATE_PERIOD": 1}
#: Apps ``make_app`` made during the current test (here, not in conftest: pytest imports the
#: root conftest as ``conftest`` while test modules import it as ``tests.conftest``).
APPS_MADE: list[Any] = []


def sandbox_settings(url: str, **config: Any) -> dict[str, Any]:
    """PCO_* settings pointing the example app at a sandbox, plus any overrides."""
    return {"PCO_API_URL": url, **SANDBOX_CREDENTIALS, **config}


def dead_runner() -> Any:
    """A process of this host that has ended, as the run row it ran would have recorded it."""
    import socket
    import subprocess
    import sys

    from flask_pco.sync.runner import Runner, process_identity

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        return Runner(socket.gethostname(), process.pid, process_identity(process.pid))
    finally:
        process.kill()
        process.wait()


def refuse_last_name(engine: Any, last_name: str) -> None:
    """A rule of the site's own database that refuses people with this last name, as a host's
    CHECK constraint might (SQLite: a trigger, since it cannot add a constraint). Tests take it
    through the ``refused_last_name`` fixture, which drops it again."""
    from sqlalchemy import text

    if engine.dialect.name == "postgresql":
        rule = f"ALTER TABLE people ADD CONSTRAINT refused_name CHECK (last_name <> '{last_name}')"
    else:
        rule = (
            f"CREATE TRIGGER refused_name BEFORE INSERT ON people WHEN NEW.last_name = "
            f"'{last_name}' BEGIN SELECT RAISE(ABORT, 'the site refuses this person'); END"
        )
    with engine.begin() as connection:
        connection.execute(text(rule))


def allow_last_names(db: Any) -> None:
    """Drop the rule ``refuse_last_name`` added: the site has fixed what refused them. The
    session's open read is ended first: PostgreSQL's ALTER TABLE waits for every reader."""
    from sqlalchemy import text

    db.session.rollback()
    engine = db.engine
    if engine.dialect.name == "postgresql":
        rule = "ALTER TABLE people DROP CONSTRAINT IF EXISTS refused_name"
    else:
        rule = "DROP TRIGGER IF EXISTS refused_name"
    with engine.begin() as connection:
        connection.execute(text(rule))
