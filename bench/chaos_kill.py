"""Kill anywhere: push N new local people through RQ workers, SIGKILL the worker at random moments.

    python bench/chaos_kill.py                                  # 1,000 people, 20 kills, seed 1
    python bench/chaos_kill.py --people 200 --kills 5 --seed 7 --database postgresql

Each kill takes the worker and its work horse down mid-push (the sandbox adds ``--latency-ms``
to every request, so a request is nearly always in flight), starts a new worker, checks that the
dead run is released at once (its work horse's process is gone from this host: no waiting for
``PCO_RUN_STALE_AFTER``), and starts the push again, as an admin or the nightly sync would. At the
end it checks: PCO people == local people, no duplicate ``remote_id``, no local row lost, every
``pco_id`` set, and the same (remote_id, name, emails, phones) set as a clean push of the same
people. Needs Redis (``--redis-url``, default ``$PCO_REDIS_URL`` or DB 8).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    FINISHED,
    Sandbox,
    app_config,
    build_app,
    duplicates,
    local_people,
    pco_people,
    sandbox_process,
    seed_local_people,
    temp_database,
    unlinked_rows,
    wait_for_run,
)
from bench.processes import Workers

#: Runs allowed after the last kill before the push must have settled.
MAX_EXTRA_RUNS = 5


@dataclass(frozen=True)
class KillResult:
    people: int
    kills: int
    kills_mid_run: int
    runs: int
    pco_people: int
    local_people: int
    duplicates: int
    unlinked: int
    identical_to_clean: bool
    seconds: float
    requests: int
    clean_requests: int

    @property
    def ok(self) -> bool:
        return (
            self.pco_people == self.local_people == self.people
            and self.duplicates == self.unlinked == 0
            and self.identical_to_clean
        )


def kill_anywhere(
    people: int,
    kills: int,
    *,
    seed: int = 1,
    latency_ms: int = 20,
    max_delay: float = 3.0,
    database: str = "sqlite",
    redis_url: str,
    grace: int = 120,
) -> KillResult:
    """Run the scenario and the clean reference push. ``grace``: ``PCO_UNCONFIRMED_GRACE``, how
    long a create a kill left in flight is held before a later run may send it."""
    rng = random.Random(seed)
    started = time.monotonic()
    with temp_database(database) as database_url, sandbox_process() as sandbox:
        sandbox.control.set_faults(latency_ms=latency_ms)
        config = _config(database_url, sandbox, redis_url, grace)
        app = build_app(config)
        with app.app_context(), Workers(config) as workers:
            seed_local_people(people)
            runs, mid_run = _push_with_kills(workers, kills, rng, max_delay, grace)
            local = local_people()
            unlinked = unlinked_rows()
        seconds = time.monotonic() - started
        remote = pco_people(sandbox.control)
        requests = len(sandbox.control.requests())
    clean, clean_requests = clean_push(people, database)
    return KillResult(
        people=people,
        kills=kills,
        kills_mid_run=mid_run,
        runs=runs,
        pco_people=len(remote),
        local_people=len(local),
        duplicates=duplicates(remote),
        unlinked=unlinked,
        identical_to_clean=remote == clean,
        seconds=seconds,
        requests=requests,
        clean_requests=clean_requests,
    )


def _config(database_url: str, sandbox: Sandbox, redis_url: str, grace: int) -> dict[str, Any]:
    return app_config(
        database_url,
        sandbox,
        PCO_REDIS_URL=redis_url,
        PCO_UNCONFIRMED_GRACE=grace,
        PCO_QUEUE=f"chaos-{uuid.uuid4().hex[:8]}",
    )


def _push_with_kills(
    workers: Workers, kills: int, rng: random.Random, max_delay: float, grace: int
) -> tuple[int, int]:
    """Returns (runs started, kills that hit a running push)."""
    from flask_pco.jobs.queue import start_sync

    run = start_sync("push", "people", mode="enqueue", trigger="chaos")
    runs, mid_run = 1, 0
    for _ in range(kills):
        if _wait_running(run.id) == "running":
            time.sleep(rng.uniform(0.1, max_delay))
            mid_run += _status(run.id) == "running"
        workers.kill(0)
        if _status(run.id) in FINISHED:
            continue  # nothing left to resume; the next run (if any) starts below
        _released(run.id)
        run = start_sync("push", "people", mode="enqueue", trigger="chaos")
        runs += 1
    final = wait_for_run(run.id)
    for _ in range(MAX_EXTRA_RUNS):
        if final.status == "succeeded" and not final.failed:
            return runs, mid_run
        # A run that ended with unconfirmed writes is settled by the next one (push design);
        # a create a kill left in flight is held until the grace period has passed, so the
        # next run comes after it, as the next nightly or admin's click would.
        time.sleep(grace)
        final = wait_for_run(start_sync("push", "people", mode="enqueue", trigger="chaos").id)
        runs += 1
    raise RuntimeError(f"the push did not settle: run {final.id} {final.status}")


def _status(run_id: int) -> str:
    from flask_pco.extension import current_pco

    state = current_pco()
    state.db.session.rollback()
    return str(state.db.session.get(state.models.SyncRun, run_id).status)


def _wait_running(run_id: int, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _status(run_id)
        if status != "queued":
            return status
        time.sleep(0.02)
    raise TimeoutError(f"no worker picked up run {run_id} within {timeout:.0f} s")


def _released(run_id: int, timeout: float = 10) -> None:
    """The product releases the dead run at the first look (``current_run``) once the work
    horse recorded on its row has ended: a SIGKILLed process takes a few milliseconds to go."""
    from flask_pco.jobs.queue import current_run

    deadline = time.monotonic() + timeout
    while current_run() is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} still holds the slot {timeout:.0f} s after the kill")
        time.sleep(0.02)


def clean_push(people: int, database: str) -> tuple[list[tuple[Any, ...]], int]:
    """The reference: the same people pushed once, inline, without faults or kills."""
    from flask_pco.jobs.queue import start_sync

    with temp_database(database) as database_url, sandbox_process() as sandbox:
        app = build_app(app_config(database_url, sandbox))
        with app.app_context():
            seed_local_people(people)
            start_sync("push", "people", mode="inline", trigger="chaos")
        return pco_people(sandbox.control), len(sandbox.control.requests())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--max-delay", type=float, default=3.0, help="longest wait before a kill")
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--grace", type=int, default=120, help="PCO_UNCONFIRMED_GRACE, seconds")
    parser.add_argument(
        "--redis-url", default=os.environ.get("PCO_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    args = parser.parse_args()
    result = kill_anywhere(
        args.people,
        args.kills,
        seed=args.seed,
        latency_ms=args.latency_ms,
        max_delay=args.max_delay,
        database=args.database,
        redis_url=args.redis_url,
        grace=args.grace,
    )
    for name, value in vars(result).items():
        print(f"{name:<20}{value if not isinstance(value, float) else f'{value:.1f}'}")
    print(f"{'wasted requests':<20}{result.requests - result.clean_requests}")
    print("OK" if result.ok else "FAILED: an invariant does not hold")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
