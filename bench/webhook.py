"""Benchmark the webhook route: deliveries/s accepted by a real WSGI server, and time until applied.

    python bench/webhook.py                                   # 200 deliveries, inline apply
    python bench/webhook.py --deliveries 500 --concurrency 8
    python bench/webhook.py --redis redis://127.0.0.1:6379/6  # route queues, a worker applies
    python bench/webhook.py --redis redis://127.0.0.1:6379/6 --simple-worker --database postgresql

The example app is served by waitress on 127.0.0.1 with a SQLite file (or a fresh PostgreSQL
database); the sandbox (in this process) plays PCO, because applying a person event re-fetches the
person. Each delivery is a signed ``person.created`` for a different sandbox person, posted by
``--concurrency`` clients. Without Redis the route applies inline, so "accepted" already includes
applying; with Redis, one ``flask pco worker`` process (started, and registered with RQ, before
the first post, or after the last with ``--backlog``) applies, and the report gives the time
until every row is finished and the worker's own rate, from the first delivery it finished to
the last.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import temp_database

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench-webhook-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200, help="signed deliveries to post")
    parser.add_argument("--concurrency", type=int, default=4, help="clients posting at once")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads")
    parser.add_argument("--redis", default="", help="PCO_REDIS_URL: queue instead of inline")
    parser.add_argument(
        "--simple-worker", action="store_true", help="run jobs in the worker process (no fork)"
    )
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--batch", type=int, default=0, help="PCO_WEBHOOK_BATCH for the worker")
    parser.add_argument(
        "--backlog", action="store_true", help="post every delivery before the worker starts"
    )
    args = parser.parse_args()

    from flask_pco.sandbox import SandboxServer, create_sandbox_app

    with (
        temp_database(args.database) as database_url,
        SandboxServer(create_sandbox_app(rate_limit=100_000, rate_period=1)) as sandbox,
    ):
        people = [
            sandbox.control.add_person(first_name=f"Bench{n}", last_name="Person")
            for n in range(args.deliveries)
        ]
        env = _environment(database_url, sandbox.url, args.redis)
        if args.batch:
            env["PCO_WEBHOOK_BATCH"] = str(args.batch)
        app = _example_app(env)
        url = _serve(app, args.threads)  # a daemon thread: it ends with this process
        bodies = [_signed_created(sandbox, pco_id) for pco_id in people]
        worker = None
        try:
            if args.redis and not args.backlog:
                worker = _ready_worker(env, args)
            started = time.perf_counter()
            latencies = _post_all(url + "/api/pco/webhook", bodies, args.concurrency)
            accepted = time.perf_counter() - started
            if args.redis and args.backlog:
                worker = _ready_worker(env, args)
                started = time.perf_counter()
            applied = _wait_applied(env["DATABASE_URL"], len(bodies), started)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
        _report(args, accepted, applied, latencies, env["DATABASE_URL"])


def _environment(database_url: str, api_url: str, redis_url: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": "bench",
        "DATABASE_URL": database_url,
        "PCO_APP_ID": "sandbox",
        "PCO_SECRET": "sandbox-secret",
        "PCO_API_URL": api_url,
        "PCO_WEBHOOK_SECRET": SECRET,
    }
    if redis_url:
        env["PCO_REDIS_URL"] = redis_url
    return env


def _example_app(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from example_app import create_app
    from example_app.models import db

    sqlite = env["DATABASE_URL"].startswith("sqlite")
    options = {"connect_args": {"timeout": 30}} if sqlite else {}
    app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        db.create_all()
    return app


def _serve(app: Any, threads: int) -> str:
    from waitress.server import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" on every burst
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}"


def _signed_created(sandbox: Any, pco_id: str) -> tuple[bytes, dict[str, str]]:
    from flask_pco.sandbox import sign_body

    record = sandbox.sandbox.store.get("Person", pco_id)
    resource = {"type": "Person", "id": pco_id, "attributes": dict(record)}
    document = {"data": resource, "included": [], "meta": {"event_time": record["updated_at"]}}
    delivery = {
        "id": str(uuid.uuid4()),
        "type": "EventDelivery",
        "attributes": {
            "name": "people.v2.events.person.created",
            "attempt": 1,
            "payload": json.dumps(document, separators=(",", ":"), default=str),
        },
    }
    raw = json.dumps({"data": [delivery]}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PCO-Webhooks-Authenticity": sign_body(raw, SECRET),
    }
    return raw, headers


def _post_all(
    url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> list[float]:
    local = threading.local()

    def post(body: tuple[bytes, dict[str, str]]) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        began = time.perf_counter()
        response = session.post(url, data=body[0], headers=body[1], timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"delivery refused: HTTP {response.status_code} {response.text}")
        return time.perf_counter() - began

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(post, bodies))


def _start_worker(env: dict[str, str], simple: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "flask", "--app", "example_app", "pco", "worker"]
    command += ["--simple"] if simple else []
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


def _ready_worker(env: dict[str, str], args: Any) -> subprocess.Popen[bytes]:
    """A worker that has started and registered, so its start-up is not in the figures."""
    worker = _start_worker(env, args.simple_worker)
    connection = Redis.from_url(args.redis)
    for _ in range(1200):
        if Worker.count(connection=connection):
            return worker
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}")
        time.sleep(0.05)
    raise SystemExit("the worker did not register within 60 s")


def _wait_applied(database_url: str, expected: int, started: float, timeout: float = 600) -> float:
    engine = create_engine(database_url)
    query = text("SELECT count(*) FROM pco_webhook_delivery WHERE status != 'received'")
    try:
        while time.perf_counter() - started < timeout:
            with engine.connect() as conn:
                if conn.execute(query).scalar_one() >= expected:
                    return time.perf_counter() - started
            time.sleep(0.05)
        raise SystemExit(f"deliveries were not all applied within {timeout:.0f} s")
    finally:
        engine.dispose()


def _report(args: Any, accepted: float, applied: float, latencies: list[float], db: str) -> None:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM pco_webhook_delivery GROUP BY status")
        )
        statuses = {status: count for status, count in rows}
        people = conn.execute(text("SELECT count(*) FROM people")).scalar_one()
        first, last = conn.execute(
            text("SELECT min(applied_at), max(applied_at) FROM pco_webhook_delivery")
        ).one()
    engine.dispose()
    mode = ("RQ worker" + (" --simple" if args.simple_worker else "")) if args.redis else "inline"
    mode += f", PCO_WEBHOOK_BATCH={args.batch}" if args.batch else ""
    mode += ", backlog" if args.backlog else ""
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
    print(f"mode                 {mode} (waitress, {args.threads} threads, {args.database})")
    print(f"deliveries           {args.deliveries} posted by {args.concurrency} clients")
    print(f"accepted             {args.deliveries / accepted:.1f} deliveries/s ({accepted:.2f} s)")
    print(
        f"response time        median {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )
    since = "the worker started" if args.backlog else "the first post"
    print(
        f"all applied after    {applied:.2f} s from {since} ({args.deliveries / applied:.1f} deliveries/s)"
    )
    if args.redis:
        print(f"worker rate          {_rate(args.deliveries, first, last)}")
    print(f"delivery statuses    {statuses}; local people {people}")


def _rate(count: int, first: datetime | str, last: datetime | str) -> str:
    """Deliveries per second from the first one finished to the last (SQLite gives text)."""
    seconds = (_timestamp(last) - _timestamp(first)).total_seconds()
    return f"{(count - 1) / seconds:.1f} deliveries/s (first to last finished: {seconds:.2f} s)"


def _timestamp(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


if __name__ == "__main__":
    main()
