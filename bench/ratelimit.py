"""How much of PCO's rate budget N processes sharing one Redis limiter actually use.

Starts a sandbox announcing ``--limit`` requests per ``--period`` seconds, spawns
``--processes`` workers that each build their own client (as RQ workers would) with the same
Redis and organisation key, and prints the requests per second achieved against the budget,
plus any 429 the sandbox logged. The clients start from PCO's documented 100/20 s and must learn
the sandbox's budget from its headers.

    python -m bench.ratelimit                      # 4 processes, 20 per 2 s: ~10 seconds
    python -m bench.ratelimit --real               # PCO's real 100 per 20 s: ~1.5 minutes
    python -m bench.ratelimit --processes 8 --limit 30 --period 3 --requests 40

Run it from the repository root (``-m``, so ``flask_pco`` is importable) with Redis running;
``--redis-url`` defaults to ``$PCO_REDIS_URL``. Its keys are unique per run and deleted after.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis

from flask_pco.client import build_client
from flask_pco.exceptions import PcoError

APP_ID, SECRET = "sandbox", "sandbox-secret"


@dataclass(frozen=True)
class Outcome:
    """What a run of the workers did, as the clients and the sandbox saw it."""

    requests: int
    failures: int
    seconds: float
    statuses: tuple[int, ...]  # the sandbox's log, in arrival order
    limit: int
    period: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def budget(self) -> float:
        return self.limit / self.period

    @property
    def sustained_rate(self) -> float:
        """The rate after the opening burst that an empty window allows for free."""
        return max(self.requests - self.limit, 0) / self.seconds

    @property
    def used(self) -> float:
        """Share of the budget used once the window is full: the figure that matters."""
        return self.sustained_rate / self.budget


def _worker(
    base_url: str, redis_url: str, key: str, count: int, barrier: Any, results: Any
) -> None:
    with build_client(
        base_url=base_url, app_id=APP_ID, secret=SECRET, redis_url=redis_url, organization_key=key
    ) as client:
        barrier.wait()
        begin, failures = time.time(), 0
        for _ in range(count):
            try:
                client.get("/people/v2/people", params={"per_page": 1})
            except PcoError:
                failures += 1
        results.put((begin, time.time(), client.request_count, failures))


def measure(base_url: str, control: Any, redis_url: str, *, processes: int, requests_each: int,
            limit: int, period: int) -> Outcome:  # fmt: skip
    """Run the workers against a sandbox already serving at ``base_url``."""
    control.set_rate_limit(limit, period)
    control.clear_requests()
    key = f"bench-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(
            target=_worker, args=(base_url, redis_url, key, requests_each, barrier, results)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    rows = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    results.close()
    _forget(redis_url, key)
    log = [e for e in control.requests() if e.get("credential") == APP_ID]
    return Outcome(
        requests=sum(r[2] for r in rows),
        failures=sum(r[3] for r in rows),
        seconds=max(r[1] for r in rows) - min(r[0] for r in rows),
        statuses=tuple(int(e["status"]) for e in log),
        limit=limit,
        period=period,
    )


def _forget(redis_url: str, key: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    try:
        stale = list(connection.scan_iter(match=f"*{key}*"))
        if stale:
            connection.delete(*stale)
    finally:
        connection.close()


def main() -> None:
    from flask_pco.sandbox import SandboxControl, SandboxServer, create_sandbox_app

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--period", type=int, default=2)
    parser.add_argument("--requests", type=int, default=25, help="per process")
    parser.add_argument("--real", action="store_true", help="PCO's real budget: 100 per 20 s")
    parser.add_argument(
        "--redis-url", default=os.environ.get("PCO_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    if args.real:
        args.limit, args.period, args.requests = 100, 20, max(args.requests, 100)
    with (
        SandboxServer(create_sandbox_app(people=10)) as server,
        SandboxControl(server.url) as control,
    ):
        outcome = measure(server.url, control, args.redis_url, processes=args.processes,
                          requests_each=args.requests, limit=args.limit, period=args.period)  # fmt: skip
    print(
        f"budget announced: {outcome.limit} requests / {outcome.period} s = {outcome.budget:.2f}/s"
    )
    print(f"achieved: {outcome.requests} requests in {outcome.seconds:.1f} s = {outcome.rate:.2f}/s "
          f"by {args.processes} processes")  # fmt: skip
    print(f"sustained, after the opening burst of {outcome.limit}: {outcome.sustained_rate:.2f}/s "
          f"= {outcome.used:.0%} of the budget")  # fmt: skip
    print(
        f"failed requests: {outcome.failures}; 429s in the sandbox log: {outcome.statuses.count(429)}"
    )


if __name__ == "__main__":
    main()
