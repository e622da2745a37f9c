"""`flask pco push full` run here, killed with SIGKILL mid-run, can simply be run again at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from example_app.models import Person
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import recent_runs
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.helpers import SANDBOX_CREDENTIALS
from tests.sync.push.conftest import add_person, age_unconfirmed, in_flight, records

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 15
GRACE = 120  # PCO_UNCONFIRMED_GRACE's default


def start_push(database_url: str, sandbox_url: str, log: Path) -> subprocess.Popen[bytes]:
    """`flask --app example_app pco push full` in its own process, without Redis: inline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCO_")}
    env.update(
        SECRET_KEY="test-secret-key",
        DATABASE_URL=database_url,
        PCO_API_URL=sandbox_url,
        **SANDBOX_CREDENTIALS,
    )
    command = [sys.executable, "-m", "flask", "--app", "example_app", "pco", "push", "full"]
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)


def kill_mid_run(process: subprocess.Popen[bytes], sandbox: SandboxControl, log: Path) -> None:
    """SIGKILL the push once PCO has taken a few of its creates."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if sum(r["method"] == "POST" for r in sandbox.requests()) >= 4:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            return
        time.sleep(0.01)
    process.kill()
    process.wait(timeout=10)
    pytest.fail(f"the push ended before it was killed:\n{log.read_text()[-2000:]}")


def test_a_killed_inline_push_can_be_run_again_at_once(
    sandbox_cli: Any,
    sandbox_server: SandboxServer,
    sandbox: SandboxControl,
    database_url: str,
    tmp_path: Path,
) -> None:
    pco = sandbox_cli()
    sandbox.reset(people=0, seed=1)
    sandbox.clear_requests()
    db = current_pco().db
    for n in range(PEOPLE):
        add_person(db, f"P{n}", "Killed", emails=(f"p{n}@example.org",))
    sandbox.set_faults(latency_ms=60)  # the push is always mid-request when it dies
    log = tmp_path / "push.log"
    kill_mid_run(start_push(database_url, sandbox_server.url, log), sandbox, log)
    sandbox.set_faults()
    (killed,) = recent_runs()
    assert killed.status == "running", log.read_text()

    result = pco("push", "full")

    assert "push full succeeded" in result.output
    db.session.rollback()
    killed = db.session.get(type(killed), killed.id)
    assert killed.status == "failed" and killed.error_message.startswith("abandoned")
    # The create on the wire at the kill landed (linked now) or waits out the grace period,
    # a record the run left: exit code 4 rather than 0.
    people = records(sandbox, "Person")
    assert sorted(Counter(p["remote_id"] for p in people).values()) == [1] * len(people)
    unlinked = set(db.session.scalars(select(Person.id).where(Person.pco_id.is_(None))))
    assert unlinked <= in_flight(db) and len(unlinked) <= 1
    assert result.exit_code == (4 if unlinked else 0), result.output

    age_unconfirmed(db, GRACE + 1)
    assert pco("push", "full").exit_code == 0
    people = records(sandbox, "Person")
    assert sorted(Counter(p["remote_id"] for p in people).values()) == [1] * PEOPLE
    db.session.expire_all()
    assert None not in db.session.scalars(select(Person.pco_id)).all()
