"""What `flask pco ...` costs before its work: the modules it loads, and how soon a run that
ends is seen. Each command runs in its own interpreter, as an admin types it, so the modules
it leaves in ``sys.modules`` are the ones it loaded."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import pytest

from flask_pco.cli import COMMANDS, pco_cli
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]

#: What a sync of this process on SQLite, without Redis or OAuth, has no use for: migrations
#: (Alembic), the queue (RQ, Redis), the sandbox, the admin page's data, its read-only PCO views
#: and the health report, PostgreSQL's dialect (with all its drivers) and the token cipher.
HEAVY = (
    "alembic",
    "flask_migrate",
    "rq",
    "redis",
    "flask_pco.sandbox",
    "flask_pco.web.admin_data",
    "flask_pco.jobs.health",
    "flask_pco.jobs.webhooks",
    "flask_pco.mapping.readonly",
    "sqlalchemy.dialects.postgresql",
    "cryptography",
)

#: Runs ``flask --app example_app ARGS`` and prints which of HEAVY it loaded, as its last line.
PROBE = """
import atexit, sys
heavy = sys.argv[1].split(",")
atexit.register(lambda: print("loaded:", sorted(m for m in heavy if m in sys.modules)))
from flask.cli import main
sys.argv = ["flask", "--app", "example_app", *sys.argv[2:]]
main()
"""


def loaded_by(*args: str, watch: tuple[str, ...] = HEAVY, **env: str) -> tuple[list[str], str]:
    """Which of ``watch`` the command loaded, and what it printed before that."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PCO_", "SECRET_KEY"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(watch), *args],
        cwd=ROOT,
        env={**clean, "SECRET_KEY": "startup", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    *output, last = result.stdout.strip().splitlines() or [""]
    assert last.startswith("loaded: "), result.stdout + result.stderr
    return ast.literal_eval(last.removeprefix("loaded: ")), "\n".join(output) + result.stderr


@pytest.fixture
def site(tmp_path: Path, sandbox_server: SandboxServer) -> dict[str, str]:
    """The example site's environment: its own SQLite file with the schema, and the sandbox."""
    control: SandboxControl = sandbox_server.control
    control.reset(people=30, seed=4)
    control.set_faults()
    url = f"sqlite:///{tmp_path / 'church.sqlite'}"
    make_app(url)  # creates the tables
    return {
        "DATABASE_URL": url,
        "PCO_API_URL": sandbox_server.url,
        "PCO_APP_ID": "sandbox",
        "PCO_SECRET": "sandbox-secret",
    }


def test_a_sync_of_this_process_loads_no_migration_queue_sandbox_or_admin_module(site) -> None:
    loaded, output = loaded_by("pco", "sync", "people", **site)
    assert "pull people succeeded: 30 created" in output
    assert loaded == []


def test_a_push_of_this_process_loads_no_migration_queue_sandbox_or_admin_module(site) -> None:
    loaded, output = loaded_by("pco", "push", "people", **site)
    assert "push people succeeded" in output
    assert loaded == []


def test_the_status_loads_no_sync_engine_or_queue(site) -> None:
    """``flask pco status`` reads rows: the queue and the sync engine are for starting runs."""
    loaded, output = loaded_by(
        "pco", "status", watch=("flask_pco.jobs.queue", "flask_pco.sync.engine"), **site
    )
    assert "no sync is running" in output
    assert loaded == []


def test_the_command_list_loads_no_command_module() -> None:
    loaded, output = loaded_by("pco", "--help")
    assert "sync " in output and "sandbox " in output
    assert loaded == []


def test_the_command_list_loads_no_http_client() -> None:
    """The OAuth routes import the PCO client when they run, not when the app is built."""
    loaded, _ = loaded_by("pco", "--help", watch=("flask_pco.client", "requests"))
    assert loaded == []


def test_the_migration_commands_load_flask_migrate_when_they_run(tmp_path: Path) -> None:
    loaded, output = loaded_by("db", "heads", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert "(head)" in output
    assert "flask_migrate" in loaded


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_commands_own(name: str) -> None:
    command = pco_cli.get_command(click.Context(pco_cli), name)
    assert command is not None
    listed = click.Command(name, help=COMMANDS[name][2])
    assert listed.get_short_help_str(1000) == command.get_short_help_str(1000)


def test_the_cli_sees_a_run_end_as_soon_as_its_thread_does(
    sandbox_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No look at the run row is waited for: the watch returns when the run's thread ends."""
    from flask_pco.cli import progress

    monkeypatch.setattr(progress, "LOOK_SECONDS", 60.0)
    started = time.monotonic()
    result = sandbox_cli()("sync", "people")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30


def test_a_run_that_ended_before_its_watcher_looked_is_still_seen_ended(
    cli_app: Any, test_steps: None
) -> None:
    """The watcher may look only after the run's thread is over and collected."""
    import gc

    from flask_pco.jobs.queue import start_sync
    from flask_pco.jobs.threads import wait_for_run

    cli_app()
    run = start_sync("pull", "counting", mode="thread", trigger="cli")
    deadline = time.monotonic() + 30
    while any(t.name == "flask-pco" and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    gc.collect()
    started = time.monotonic()
    wait_for_run(run.id, 20.0)
    assert time.monotonic() - started < 5
