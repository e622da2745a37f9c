"""Benchmark undoing a pull: N people pulled from the sandbox, then that pull undone.

    python bench/undo.py                          # 5,000 people, SQLite and PostgreSQL
    python bench/undo.py --sizes 5000,50000 --dbs sqlite

The pull is a first one (everyone created here, with their emails and phones), so its undo
deletes every row it made: the journal's largest undo of a pull. Each (database, size) runs in
a fresh Python process so its peak RSS is its own; the sandbox runs in another process
(``bench/pull.py``'s). Printed per run: the pull's and the undo's journal entries, the undo's
wall and CPU seconds, the SQL statements it sent (an executemany counts once), and peak RSS.
The undo must leave no person, email or phone behind, or the run says FAILED.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
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
    parser.add_argument("--sizes", default="5000", help="comma-separated people counts")
    parser.add_argument("--dbs", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--one", nargs=2, metavar=("DB", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    print(
        f"{'db':<11}{'people':>8}{'pull s':>8}{'pull entries':>14}{'undo entries':>14}"
        f"{'undo s':>8}{'undo CPU s':>12}{'statements':>12}{'peak RSS MB':>13}"
    )
    failed = False
    for db in args.dbs.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            result = _in_subprocess(db, size)
            failed = failed or bool(result["left"])
            print(
                f"{db:<11}{size:>8}{result['pull_seconds']:>8.1f}{result['pull_entries']:>14}"
                f"{result['undo_entries']:>14}{result['undo_seconds']:>8.1f}"
                f"{result['undo_cpu_seconds']:>12.1f}{result['statements']:>12}"
                f"{result['peak_rss_mb']:>13.0f}"
                + (f"  FAILED: {result['left']} rows left" if result["left"] else ""),
                flush=True,
            )
    print("FAILED" if failed else "OK")
    sys.exit(1 if failed else 0)


def _in_subprocess(db: str, size: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--one", db, str(size)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_one(db: str, size: int) -> dict[str, Any]:
    with sandbox_and_database(db, size) as (url, database_url):
        return _pull_and_undo(url, database_url, size)


def _pull_and_undo(url: str, database_url: str, size: int) -> dict[str, Any]:
    from sqlalchemy import event

    from example_app.models import db
    from flask_pco import current_pco

    app = bench_app(url, database_url)
    with app.app_context():
        db.create_all()
        state = current_pco()
        gc.freeze()  # what the work horse does before its job
        pull, pull_seconds = _timed(state, "people", "pull", {})
        if pull.status != "succeeded" or pull.created != size:
            raise SystemExit(f"pull {pull.status}: {pull.created} created, {pull.error_message}")
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        cpu = _cpu_seconds()
        undo, undo_seconds = _timed(state, "run", "undo", {"run_id": pull.id})
        cpu = _cpu_seconds() - cpu
        event.remove(db.engine, "before_cursor_execute", count)
        if undo.status != "succeeded":
            raise SystemExit(f"undo {undo.status}: {undo.error_message}")
        return {
            "pull_seconds": pull_seconds,
            "pull_entries": _entries(state, pull.id),
            "undo_entries": _entries(state, undo.id),
            "undo_seconds": undo_seconds,
            "undo_cpu_seconds": cpu,
            "statements": statements[0],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "left": _rows_left(),
        }


def _timed(state: Any, sync_type: str, direction: str, options: dict[str, Any]) -> Any:
    from flask_pco.sync.engine import execute_run
    from flask_pco.sync.runs import queue_run

    run = queue_run(state, sync_type, direction, trigger="bench", options=options)
    started = time.perf_counter()
    execute_run(state, run, state.client())
    seconds = time.perf_counter() - started
    state.db.session.refresh(run)
    return run, seconds


def _entries(state: Any, run_id: int) -> int:
    from sqlalchemy import func, select

    Entry = state.models.JournalEntry
    query = select(func.count()).select_from(Entry).where(Entry.run_id == run_id)
    return int(state.db.session.scalar(query) or 0)


def _rows_left() -> int:
    """People, emails and phones the undo should have deleted and did not."""
    from example_app.models import Person, PersonEmail, PersonPhone, db

    return sum(
        db.session.scalar(db.select(db.func.count()).select_from(model)) or 0
        for model in (Person, PersonEmail, PersonPhone)
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
