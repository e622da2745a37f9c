"""A push killed with SIGKILL mid-way, then re-run, ends with one PCO person per local person."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from example_app.models import Person, PersonEmail, PersonPhone
from flask_pco.extension import current_pco

from .conftest import add_person, age_unconfirmed, in_flight, records, run_push

GRACE = 120  # PCO_UNCONFIRMED_GRACE's default

ROOT = Path(__file__).resolve().parents[3]
PEOPLE = 12


def _start_worker(database_url: str, sandbox_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.sync.push.runner", database_url, sandbox_url, "people"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _kill_after_posts(worker: subprocess.Popen[bytes], sandbox, posts: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        if sum(r["method"] == "POST" for r in sandbox.requests()) >= posts:
            worker.send_signal(signal.SIGKILL)
            worker.communicate(timeout=10)  # reaps it and closes its pipes
            return
        time.sleep(0.01)
    worker.kill()
    _, stderr = worker.communicate(timeout=10)
    pytest.fail(f"the worker ended before it was killed: {stderr.decode()[-2000:]}")


def _forget_dead_run() -> None:
    """What ``mark_abandoned_runs`` does once the dead worker's heartbeat is stale."""
    state = current_pco()
    SyncRun = state.models.SyncRun
    state.db.session.execute(
        update(SyncRun).where(SyncRun.status == "running").values(status="failed")
    )
    state.db.session.commit()


@pytest.mark.parametrize("posts", [6, 13])
def test_killed_push_rerun_leaves_exactly_one_pco_person_per_local_person(
    db, sandbox, sandbox_server, database_url, posts
):
    for n in range(PEOPLE):
        add_person(
            db, f"P{n}", "Kill", emails=(f"p{n}@example.org",), phones=((f"+1555010{n:04d}", None),)
        )
    sandbox.set_faults(latency_ms=40)  # the worker is always mid-request when it dies
    worker = _start_worker(database_url, sandbox_server.url)
    _kill_after_posts(worker, sandbox, posts)
    sandbox.set_faults()
    time.sleep(0.2)  # let the request in flight at the kill land in the sandbox
    db.session.expire_all()
    assert db.session.scalars(select(Person.pco_id)).all().count(None) > 0, "killed too late"
    _forget_dead_run()

    run_push("people")

    # The record whose create was on the wire at the kill either landed (and is linked now) or
    # waits out the grace period: never a second POST while the first may still land.
    people = records(sandbox, "Person")
    assert sorted(Counter(p["remote_id"] for p in people).values()) == [1] * len(people)
    unlinked = {row.id for row in db.session.scalars(select(Person)) if row.pco_id is None}
    assert unlinked <= in_flight(db)
    assert len(unlinked) <= 1

    age_unconfirmed(db, GRACE + 1)
    run_push("people")

    people = records(sandbox, "Person")
    assert sorted(Counter(p["remote_id"] for p in people).values()) == [1] * PEOPLE
    db.session.expire_all()
    local = {row.id: row.pco_id for row in db.session.scalars(select(Person))}
    assert {p["remote_id"]: p["id"] for p in people} == local
    assert len(records(sandbox, "Email")) == len(records(sandbox, "PhoneNumber")) == PEOPLE
    assert None not in db.session.scalars(select(PersonEmail.pco_id)).all()
    assert None not in db.session.scalars(select(PersonPhone.pco_id)).all()
