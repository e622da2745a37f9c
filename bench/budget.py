"""Shared budget: 4 RQ workers on 2 organisations' jobs, each organisation its own PCO budget.

    python bench/budget.py                         # PCO's real 100 per 20 s, ~2.5 min of work
    python bench/budget.py --rate 20/2 --people 60 --deliveries 40     # small and fast

Two sandboxes (two organisations, two credentials, so two budgets) enforce ``--rate`` with 429s.
Each organisation has its own example app (database, ``PCO_QUEUE``) and two worker processes
sharing one Redis limiter; its clients start from PCO's documented 100 per 20 s and learn the
sandbox's budget from its headers. Each organisation gets a push of ``--people`` new people
(3 writes each) and ``--deliveries`` signed webhook deliveries (one re-fetch each) through its
webhook route, so both of its workers have work. Prints, per organisation: failed runs or
deliveries (must be 0), 429s (PCO refusals), and utilisation = requests after the first
window / (seconds from then to the last request x budget rate), which must reach 95 %
while work is queued (timestamps are to the second: use runs of a minute or more).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    Sandbox,
    app_config,
    build_app,
    sandbox_process,
    seed_local_people,
    signed_delivery,
    temp_database,
    wait_for_run,
)
from bench.processes import Workers

SECRET = "budget-webhook-secret"


@dataclass(frozen=True)
class OrgResult:
    name: str
    requests: int
    refused: int
    other_errors: int
    failed_work: int
    busy_seconds: float
    #: Requests answered after the first window, and the seconds from then to the last one.
    steady_requests: int
    steady_seconds: float
    limit: int
    period: int

    @property
    def utilisation(self) -> float:
        """The steady rate (after the first window, whose burst would flatter it) over the
        budget's rate."""
        allowed = self.steady_seconds * self.limit / self.period
        return self.steady_requests / allowed if allowed else 0.0


def shared_budget(
    people: int,
    deliveries: int,
    *,
    limit: int = 100,
    period: int = 20,
    workers_per_org: int = 2,
    redis_url: str,
) -> list[OrgResult]:
    with ExitStack() as stack:
        orgs = []
        for name in ("north", "south"):
            sandbox = stack.enter_context(
                sandbox_process(deliveries, rate_limit=limit, rate_period=period)
            )
            database_url = stack.enter_context(temp_database())
            config = app_config(
                database_url,
                sandbox,
                PCO_REDIS_URL=redis_url,
                PCO_QUEUE=f"budget-{name}-{uuid.uuid4().hex[:6]}",
                PCO_RATE_LIMIT=100,  # PCO's documented budget: the real one is learned
                PCO_RATE_PERIOD=20,
                PCO_WEBHOOK_SECRET=SECRET,
            )
            orgs.append((name, sandbox, build_app(config), config))
        for _, _, app, _ in orgs:
            with app.app_context():
                seed_local_people(people)
        for _, _, _, config in orgs:
            stack.enter_context(Workers(config, workers_per_org))
        runs = [_queue_work(app, sandbox) for _, sandbox, app, _ in orgs]
        failed = [
            _wait_for_work(app, run_id) for (_, _, app, _), run_id in zip(orgs, runs, strict=True)
        ]
        return [
            _measure(name, sandbox, limit, period, failures)
            for (name, sandbox, _, _), failures in zip(orgs, failed, strict=True)
        ]


def _queue_work(app: Any, sandbox: Sandbox) -> int:
    """A push run, then every PCO person's ``person.updated`` through the webhook route."""
    from flask_pco.jobs.queue import start_sync

    records = sandbox.control.state()["records"]["Person"]
    with app.app_context():
        run_id = start_sync("push", "people", mode="enqueue", trigger="chaos").id
    client = app.test_client()
    for record in records:
        attributes = {k: v for k, v in record.items() if k != "id"}
        attributes["updated_at"] = datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        resource = {"type": "Person", "id": record["id"], "attributes": attributes}
        body, headers = signed_delivery(
            str(uuid.uuid4()), "people.v2.events.person.updated", resource, SECRET
        )
        response = client.post("/api/pco/webhook", data=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"delivery refused: {response.status_code} {response.text}")
    return run_id


def _wait_for_work(app: Any, run_id: int, timeout: float = 3600) -> int:
    """Wait for the push and every delivery; return how many of them did not succeed."""
    from flask_pco.extension import current_pco

    with app.app_context():
        run = wait_for_run(run_id, timeout)
        state = current_pco()
        Delivery = state.models.WebhookDelivery
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state.db.session.rollback()
            pending = state.db.session.query(Delivery).filter_by(status="received").count()
            if not pending:
                break
            time.sleep(0.2)
        unapplied = state.db.session.query(Delivery).filter(Delivery.status != "applied").count()
        return int(run.status != "succeeded" or run.failed > 0) + unapplied


def _measure(name: str, sandbox: Sandbox, limit: int, period: int, failed: int) -> OrgResult:
    log = sandbox.control.requests()
    times = [_seconds(r["time"]) for r in log if r["status"] != 429]
    start, end = (min(times), max(times)) if times else (0.0, 0.0)  # to the second
    steady = [t for t in times if t >= start + period]
    return OrgResult(
        name=name,
        requests=sum(r["status"] != 429 for r in log),
        refused=sum(r["status"] == 429 for r in log),
        other_errors=sum(r["status"] >= 400 and r["status"] != 429 for r in log),
        failed_work=failed,
        busy_seconds=end - start,
        steady_requests=len(steady),
        steady_seconds=max(end - start - period, 0.0),
        limit=limit,
        period=period,
    )


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", default="100/20", help="each organisation's budget LIMIT/SECONDS")
    parser.add_argument("--people", type=int, default=200, help="people each organisation pushes")
    parser.add_argument("--deliveries", type=int, default=150, help="webhooks per organisation")
    parser.add_argument(
        "--redis-url", default=os.environ.get("PCO_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    args = parser.parse_args()
    limit, _, period = args.rate.partition("/")
    results = shared_budget(
        args.people,
        args.deliveries,
        limit=int(limit),
        period=int(period or 1),
        redis_url=args.redis_url,
    )
    print(f"budget {limit} per {period} s per organisation; 2 workers per organisation")
    print(
        f"{'org':<7}{'requests':>9}{'429s':>6}{'errors':>8}{'failed':>8}{'busy s':>8}{'utilisation':>13}"
    )
    for r in results:
        print(
            f"{r.name:<7}{r.requests:>9}{r.refused:>6}{r.other_errors:>8}{r.failed_work:>8}"
            f"{r.busy_seconds:>8.0f}{r.utilisation:>13.1%}"
        )
    ok = all(r.failed_work == r.other_errors == 0 and r.utilisation >= 0.95 for r in results)
    print("OK" if ok else "FAILED: a job failed, PCO refused requests, or the budget went unused")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
