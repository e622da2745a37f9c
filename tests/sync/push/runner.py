"""Running a push step as a real sync run, in this process or in a fresh one.

``python -m tests.sync.push.runner DATABASE_URL SANDBOX_URL STEP`` runs one push step in its own
process: the kill-and-re-run test starts it, kills it with SIGKILL mid-push, and re-runs.
"""

from __future__ import annotations

import sys

from flask_pco.extension import current_pco
from flask_pco.sync.context import RunReporter
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.helpers import NO_RATE_LIMIT, sandbox_settings


def run_push(name: str, *, dry_run: bool = False) -> RunReporter:
    """Run a push (one step or ``full``) through the engine, as the CLI and jobs do."""
    state = current_pco()
    run = queue_run(state, name, "push", dry_run=dry_run)
    return execute_run(state, run, state.client())


def main(database_url: str, sandbox_url: str, step: str) -> None:
    from example_app import create_app

    app = create_app(
        {
            "SECRET_KEY": "worker",
            "SQLALCHEMY_DATABASE_URI": database_url,
            **sandbox_settings(sandbox_url, **NO_RATE_LIMIT),
        }
    )
    with app.app_context():
        print(run_push(step).summary(), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
