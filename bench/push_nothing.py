"""``push full`` with nothing to push: time and peak memory against the size of the database.

    python bench/push_nothing.py                          # 5,000 and 50,000 people, SQLite
    python bench/push_nothing.py --sizes 5000 --dbs sqlite,postgresql --repeat 3

For each (database, size): a sandbox of generated people (its own process, no rate limit) is
pulled into a fresh database, so every person, email and phone is linked and agrees with PCO;
then a fresh process runs ``push full`` and reports its wall time, its requests (0: nothing
to push sends nothing), the RSS it started the push with and its peak. With ``--repeat`` the
push is run that many times (each in a fresh process) and the median is printed. Issue 22's
targets: at most 1 s for 50,000 people and at most +50 MB over the 5,000-person case.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pull import bench_app, sandbox_and_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="comma-separated people counts")
    parser.add_argument("--dbs", default="sqlite", help="sqlite and/or postgresql")
    parser.add_argument("--repeat", type=int, default=1, help="pushes per size; median printed")
    parser.add_argument("--step", nargs=3, metavar=("STEP", "URL", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_run_step(*args.step)))
        return
    print(
        f"{'db':<11}{'people':>8}{'requests':>10}{'push s':>8}{'RSS before MB':>15}{'peak MB':>9}"
    )
    for db in args.dbs.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            runs = _measure(db, size, args.repeat)
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"{db:<11}{size:>8}{median['requests']:>10.0f}{median['seconds']:>8.2f}"
                f"{median['rss_before_mb']:>15.0f}{median['peak_rss_mb']:>9.0f}",
                flush=True,
            )


def _measure(db: str, size: int, repeat: int) -> list[dict[str, Any]]:
    with sandbox_and_database(db, size) as (url, database_url):
        pulled = _in_subprocess("pull", url, database_url)
        if pulled["created"] != size:
            raise SystemExit(f"the pull created {pulled['created']} of {size} people")
        return [_in_subprocess("push", url, database_url) for _ in range(repeat)]


def _in_subprocess(step: str, url: str, database_url: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--step", step, url, database_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _run_step(step: str, url: str, database_url: str) -> dict[str, Any]:
    from example_app.models import db
    from flask_pco import current_pco
    from flask_pco.sync.engine import execute_run
    from flask_pco.sync.runs import queue_run

    app = bench_app(url, database_url)
    with app.app_context():
        db.create_all()
        state = current_pco()
        direction, sync_type = ("pull", "people") if step == "pull" else ("push", "full")
        run = queue_run(state, sync_type, direction, trigger="bench")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        execute_run(state, run, state.client())
        seconds = time.perf_counter() - started
        state.db.session.refresh(run)
        if run.status != "succeeded":
            raise SystemExit(f"{direction} {sync_type} {run.status}: {run.error_message}")
        return {
            "created": run.created,
            "requests": run.requests_used,
            "seconds": seconds,
            "rss_before_mb": before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


if __name__ == "__main__":
    main()
