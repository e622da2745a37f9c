"""Flaky PCO: a full pull, then a full push, while the sandbox fails requests; compare with clean.

    python bench/chaos_flaky.py                          # 500 PCO people pulled, 300 new pushed
    python bench/chaos_flaky.py --pco-people 100 --people 50 --database postgresql

Both runs go through an RQ worker (``make_worker``, with RQ's scheduler for retries) with
``PCO_TIMEOUT`` = 1 s. In the flaky run the sandbox answers 5 % of API requests with HTTP 500,
holds 2 % for 2 s (a client timeout; the request is still carried out, as a slow PCO would),
loses the answer to 5 % of the writes it carried out (a gateway's 504 after the commit) and
starts a 429 storm every ``--storm-every`` seconds. Nobody steps in: RQ retries a run that
failed on a retriable error, and a run that ended with unconfirmed writes is followed by the
next one (the push design: the next run looks them up before writing), as the nightly sync
would. Prints the passes each direction needed, the final comparison with the clean run, and
the requests wasted (flaky-run requests minus clean-run requests).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    Sandbox,
    app_config,
    build_app,
    duplicates,
    local_people,
    pco_people,
    sandbox_process,
    seed_local_people,
    temp_database,
    wait_for_run,
)
from bench.processes import Workers

#: ``PCO_TIMEOUT`` in both runs (seconds); the sandbox holds a "timed-out" request longer.
CLIENT_TIMEOUT = 1


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.05
    timeout_rate: float = 0.02
    timeout_seconds: float = 2.0
    #: Writes carried out in full whose answer is lost (504 from the "gateway").
    lost_answer_rate: float = 0.05
    storm_every: float = 10.0
    storm_seconds: float = 2.0


@dataclass(frozen=True)
class Outcome:
    """What one pass (clean or flaky) left behind, and what it cost."""

    local: list[tuple[Any, ...]]
    remote: list[tuple[Any, ...]]
    broken_links: int
    statuses: dict[int, int]
    #: Requests the sandbox held past the client's timeout (it still carried them out).
    timed_out: int
    #: Writes the sandbox carried out but answered with a gateway's 504.
    lost_answers: int
    pull_runs: int
    push_runs: int

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class FlakyResult:
    clean: Outcome
    flaky: Outcome

    @property
    def identical(self) -> bool:
        same = self.clean.local == self.flaky.local and self.clean.remote == self.flaky.remote
        return same and self.flaky.broken_links == 0

    @property
    def wasted(self) -> int:
        return self.flaky.requests - self.clean.requests


def flaky_pco(
    pco_count: int,
    local_count: int,
    *,
    faults: Faults,
    database: str = "sqlite",
    redis_url: str,
    max_runs: int = 6,
) -> FlakyResult:
    clean = sync_once(pco_count, local_count, None, database, redis_url, max_runs)
    flaky = sync_once(pco_count, local_count, faults, database, redis_url, max_runs)
    return FlakyResult(clean, flaky)


def sync_once(
    pco_count: int,
    local_count: int,
    faults: Faults | None,
    database: str,
    redis_url: str,
    max_runs: int,
) -> Outcome:
    """Pull everything, add local people, push everything; with ``faults`` on while it runs."""
    with temp_database(database) as database_url, sandbox_process(pco_count) as sandbox:
        config = app_config(
            database_url,
            sandbox,
            PCO_REDIS_URL=redis_url,
            PCO_QUEUE=f"flaky-{uuid.uuid4().hex[:8]}",
            PCO_TIMEOUT=CLIENT_TIMEOUT,
            # A create held past our timeout lands within the sandbox's hold; the push must
            # not create it again before then, and the next run (after `pause`) may.
            PCO_UNCONFIRMED_GRACE=math.ceil(faults.timeout_seconds) if faults else 0,
        )
        app = build_app(config)
        storms = Storms(sandbox, faults) if faults else None
        with app.app_context(), Workers(config):
            try:
                pause = (faults.timeout_seconds + 1) if faults else 0
                pulls = until_settled("pull", max_runs, pause)
                seed_local_people(local_count, prefix="New")
                pushes = until_settled("push", max_runs, pause)
            finally:
                if storms:
                    storms.stop()
            rows = local_people()
        # PCO numbers new people in creation order, which retries change: compare content, and
        # check every link separately.
        local = sorted((*row[2:], row[1] is not None) for row in rows)
        log = sandbox.control.requests()
        statuses = Counter(r["status"] for r in log)
        timed_out = sum(r["duration_ms"] >= 1000 * CLIENT_TIMEOUT for r in log)
        lost = sum("lost_status" in r for r in log)
        broken = broken_links(rows, sandbox.control.state()["records"].get("Person", []))
        remote = pco_people(sandbox.control)
        return Outcome(local, remote, broken, dict(statuses), timed_out, lost, pulls, pushes)


def broken_links(rows: list[tuple[Any, ...]], people: list[dict[str, Any]]) -> int:
    """Local rows not linked to a PCO person that exists, plus PCO people whose ``remote_id``
    names a local row linked elsewhere (a duplicate or a crossed link)."""
    ids = {p["id"] for p in people}
    linked = {row[0]: row[1] for row in rows}
    dangling = sum(row[1] not in ids for row in rows)
    crossed = sum(
        1 for p in people if p.get("remote_id") and linked.get(int(p["remote_id"])) != p["id"]
    )
    return dangling + crossed


def until_settled(direction: str, max_runs: int, next_run_after: float) -> int:
    """Run ``full`` until a run succeeds with nothing unconfirmed; return how many it took."""
    from flask_pco.jobs.queue import start_sync

    for runs in range(1, max_runs + 1):
        run = start_sync(direction, "full", mode="enqueue", trigger="chaos")
        run = wait_for_run(run.id)
        if run.status == "succeeded" and not run.failed:
            return runs
        # The next run comes later (RQ's first retry waits 10 s, the nightly a day); until
        # PCO_UNCONFIRMED_GRACE has passed, a create PCO held past our timeout is not re-sent.
        time.sleep(next_run_after)
    raise RuntimeError(f"{direction} did not settle in {max_runs} runs: {run.error_message}")


class Storms:
    """Faults on, and a 429 storm every ``storm_every`` seconds, until stopped."""

    def __init__(self, sandbox: Sandbox, faults: Faults) -> None:
        self.control, self.faults = sandbox.control, faults
        self._stopped = threading.Event()
        self._set(storm=0)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _set(self, storm: float) -> None:
        f = self.faults
        self.control.set_faults(
            error_rate=f.error_rate,
            timeout_rate=f.timeout_rate,
            timeout_seconds=f.timeout_seconds,
            lost_answer_rate=f.lost_answer_rate,
            storm_seconds=storm,
        )

    def _loop(self) -> None:
        while not self._stopped.wait(self.faults.storm_every):
            self._set(storm=self.faults.storm_seconds)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self.control.set_faults()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pco-people", type=int, default=500, help="people the pull brings in")
    parser.add_argument("--people", type=int, default=300, help="new local people to push")
    parser.add_argument("--storm-every", type=float, default=10.0, help="seconds between storms")
    parser.add_argument("--storm-seconds", type=float, default=2.0, help="length of a 429 storm")
    parser.add_argument(
        "--lost-answer-rate", type=float, default=0.05, help="share of writes whose answer is lost"
    )
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--redis-url", default=os.environ.get("PCO_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    args = parser.parse_args()
    faults = Faults(
        storm_every=args.storm_every,
        storm_seconds=args.storm_seconds,
        lost_answer_rate=args.lost_answer_rate,
    )
    result = flaky_pco(
        args.pco_people,
        args.people,
        faults=faults,
        database=args.database,
        redis_url=args.redis_url,
    )
    for name, outcome in (("clean", result.clean), ("flaky", result.flaky)):
        print(
            f"{name:<6} requests {outcome.requests:>6}  statuses {dict(sorted(outcome.statuses.items()))}"
            f"  timed out {outcome.timed_out}  lost answers {outcome.lost_answers}"
            f"  pull runs {outcome.pull_runs}"
            f"  push runs {outcome.push_runs}"
        )
    print(f"local people        {len(result.flaky.local)} (clean {len(result.clean.local)})")
    print(f"PCO people          {len(result.flaky.remote)} (clean {len(result.clean.remote)})")
    print(f"PCO duplicates      {duplicates(result.flaky.remote)}")
    print(f"broken links        {result.flaky.broken_links}")
    print(f"identical to clean  {result.identical}")
    share = result.wasted / max(result.clean.requests, 1)
    print(f"requests wasted     {result.wasted} ({share:.1%} of the clean run)")
    sys.exit(0 if result.identical and not duplicates(result.flaky.remote) else 1)


if __name__ == "__main__":
    main()
