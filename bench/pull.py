"""Benchmark ``pull people`` against the sandbox: requests, wall time, records/s, peak RSS.

    python bench/pull.py                          # 5,000 and 50,000 people, SQLite and PostgreSQL
    python bench/pull.py --sizes 5000 --dbs sqlite

Each (database, size) runs in a fresh Python process so its peak RSS is its own; the sandbox
runs in yet another process, so its data is not counted. "waiting s" is the part of the wall
time the sync spent waiting for the sandbox's next page (pages are fetched while the previous
one is written); "re-run s" is a second full pull right after, when everyone is linked and
nothing changed. Neither side rate-limits and the
sandbox adds no latency: the figures are the sync's own cost. Each pull runs with the heap
frozen, as the RQ work horse (``AppWorker.main_work_horse``) and an inline ``flask pco sync``
run it; ``--no-freeze`` measures a run started in a long-lived process instead (the admin
page's button on a site without Redis); ``--receivers`` connects a no-op receiver to every
signal of ``flask_pco.signals``, so every change is announced (a site without receivers
skips that work); ``--custom-fields N`` pulls into ``bench/fields_site.py`` (people only, no
contacts) with N of the sandbox's custom fields mapped, every person holding values for most
of them (0: the same site without custom fields). "CPU s" is the first pull's own CPU time. Targets (from issue 5): 5,000 people in
at most 50 requests; 50,000 in at most 30 s; peak memory within +50 MB of the 5,000 run.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get(
    "PCO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="comma-separated people counts")
    parser.add_argument("--dbs", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--no-freeze", action="store_true", help="run without gc.freeze()")
    parser.add_argument(
        "--receivers",
        action="store_true",
        help="connect a no-op receiver to every flask_pco signal (what announcing costs)",
    )
    parser.add_argument(
        "--custom-fields",
        type=int,
        default=None,
        help="pull into bench/fields_site.py with this many custom fields mapped (0-6)",
    )
    parser.add_argument("--one", nargs=2, metavar=("DB", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.receivers:
            _connect_receivers()
        result = run_one(
            args.one[0], int(args.one[1]), freeze=not args.no_freeze, custom=args.custom_fields
        )
        print(json.dumps(result))
        return
    print(
        f"{'db':<11}{'people':>8}{'requests':>10}{'wall s':>9}{'records/s':>11}"
        f"{'waiting s':>11}{'re-run s':>10}{'peak RSS MB':>13}{'CPU s':>8}{'people pages':>14}"
    )
    for db in args.dbs.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            result = _in_subprocess(db, size, args.no_freeze, args.receivers, args.custom_fields)
            print(
                f"{db:<11}{size:>8}{result['requests']:>10}{result['seconds']:>9.1f}"
                f"{result['records_per_second']:>11.0f}{result['waiting_seconds']:>11.1f}"
                f"{result['rerun_seconds']:>10.1f}"
                f"{result['peak_rss_mb']:>13.0f}{result['cpu_seconds']:>8.1f}"
                f"{result['people_pages'] // 2:>14}",
                flush=True,
            )


def _connect_receivers() -> None:
    from flask_pco.signals import signals

    def heard(sender: Any, **payload: Any) -> None:
        heard.calls += 1  # type: ignore[attr-defined]

    heard.calls = 0  # type: ignore[attr-defined]
    for signal in signals.values():
        signal.connect(heard)
    _RECEIVERS.append(heard)  # blinker holds receivers weakly


_RECEIVERS: list[Any] = []


def _in_subprocess(
    db: str, size: int, no_freeze: bool, receivers: bool, custom: int | None
) -> dict[str, Any]:
    flags = [*(["--no-freeze"] if no_freeze else []), *(["--receivers"] if receivers else [])]
    flags += ["--custom-fields", str(custom)] if custom is not None else []
    output = subprocess.run(
        [sys.executable, __file__, "--one", db, str(size), *flags],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_one(
    db: str, size: int, *, freeze: bool = True, custom: int | None = None
) -> dict[str, Any]:
    with sandbox_and_database(db, size) as (url, database_url):
        return _pull(url, database_url, size, freeze, custom)


@contextmanager
def sandbox_and_database(db: str, size: int) -> Iterator[tuple[str, str]]:
    """A sandbox of ``size`` generated people in its own process (no rate limit) and a fresh
    database (``sqlite`` or ``postgresql``): (sandbox URL, database URL), both gone after."""
    with sandbox_server(size) as url:
        database_url, drop = _database(db)
        try:
            yield url, database_url
        finally:
            drop()


@contextmanager
def sandbox_server(size: int) -> Iterator[str]:
    """A sandbox of ``size`` generated people (seed 1, no rate limit) served by a process of
    its own, so its work is not counted as the sync's: its base URL, stopped after."""
    port = _free_port()
    sandbox = multiprocessing.get_context("spawn").Process(
        target=_serve_sandbox, args=(port, size), daemon=True
    )
    sandbox.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url)
        yield url
    finally:
        sandbox.terminate()
        sandbox.join(10)


def _config(url: str, database_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PCO_API_URL": url,
        "PCO_APP_ID": "sandbox",
        "PCO_SECRET": "sandbox-secret",
        "PCO_RATE_LIMIT": 100_000,
        "PCO_RATE_PERIOD": 1,
    }


def bench_app(url: str, database_url: str) -> Any:
    """The example app on ``database_url``, pulling from the sandbox at ``url`` unthrottled."""
    from example_app import create_app

    return create_app(_config(url, database_url))


def _pull(
    url: str, database_url: str, size: int, freeze: bool, custom: int | None = None
) -> dict[str, Any]:
    from flask_pco import current_pco

    if custom is None:
        from example_app.models import db

        app = bench_app(url, database_url)
    else:
        from bench.fields_site import db, fields_app

        app = fields_app(_config(url, database_url), custom)
    waiting = _measure_waiting()
    with app.app_context():
        db.create_all()
        state = current_pco()
        if freeze:
            gc.freeze()  # what the work horse does before its job
        cpu = _cpu_seconds()
        run, seconds = _timed_run(state)
        cpu = _cpu_seconds() - cpu
        if run.status != "succeeded" or run.created != size:
            raise SystemExit(f"run {run.status}: {run.created} created, {run.error_message}")
        rerun, rerun_seconds = _timed_run(state)  # everyone linked and unchanged
        if rerun.status != "succeeded" or rerun.created or rerun.updated:
            raise SystemExit(
                f"re-run {rerun.status}: {rerun.created} created, {rerun.updated} updated"
            )
        return {
            "rerun_seconds": rerun_seconds,
            "requests": run.requests_used,
            "people_pages": _people_pages(url),
            "seconds": seconds,
            "records_per_second": size / seconds,
            "waiting_seconds": waiting[0],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu_seconds": cpu,
        }


def _people_pages(url: str) -> int:
    """How many people-list pages the sandbox served (of both runs: halve for one)."""
    log = requests.get(url + "/_sandbox/requests", timeout=30).json()
    return sum(1 for entry in log if entry["path"].split("?")[0] == "/people/v2/people")


def _cpu_seconds() -> float:
    """This process's CPU time: under a shared machine's load, steadier than the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed_run(state: Any) -> tuple[Any, float]:
    from flask_pco.sync.engine import execute_run
    from flask_pco.sync.runs import queue_run

    run = queue_run(state, "people", "pull", trigger="bench")
    started = time.perf_counter()
    execute_run(state, run, state.client())
    seconds = time.perf_counter() - started
    state.db.session.refresh(run)
    return run, seconds


def _measure_waiting() -> list[float]:
    """Time the sync spends waiting for the next page (the sandbox's share of the wall time)."""
    from flask_pco.sync.pull import base as pull_base

    waited = [0.0]
    prefetched = pull_base.prefetched

    def timed(pages: Any) -> Any:
        iterator = prefetched(pages)
        while True:
            started = time.perf_counter()
            page = next(iterator, None)
            waited[0] += time.perf_counter() - started
            if page is None:
                return
            yield page

    pull_base.prefetched = timed  # type: ignore[assignment]
    return waited


def _serve_sandbox(port: int, size: int) -> None:
    from flask_pco.sandbox import create_sandbox_app
    from flask_pco.sandbox.testing import SandboxServer

    app = create_sandbox_app(people=size, seed=1, rate_limit=1_000_000, rate_period=1)
    server = SandboxServer(app, port=port)
    server._server.serve_forever()


def _database(db: str) -> tuple[str, Any]:
    if db == "sqlite":
        folder = tempfile.TemporaryDirectory()
        return f"sqlite:///{folder.name}/bench.sqlite", folder.cleanup
    if db != "postgresql":
        raise SystemExit(f"unknown database {db!r}: use sqlite or postgresql")
    from sqlalchemy import create_engine, text

    name = f"flask_pco_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def _wait_for(url: str, timeout: float = 600.0) -> None:
    """The sandbox generates its people before it listens; wait until it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/_sandbox/state?records=0", timeout=5).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit(f"the sandbox at {url} did not start in {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
