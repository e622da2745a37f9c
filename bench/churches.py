"""Many churches on one site: 10 organisations, 4 shared worker processes, PCO's real budget.

    python bench/churches.py                  # 10 churches x (push 200 people, 150 webhooks)
    python bench/churches.py --scale 0.25     # the same churches, a quarter of the work each

One sandbox process holds ``--churches`` organisations, each with its own data and its own
``--rate`` budget (the sandbox's limiter, PCO's 100 per 20 s by default). One site (the
many-church test site: an ``X-Church`` organisation loader, a ``church_id`` column) connects
each church through OAuth, and ``--workers`` worker processes serve every church's queues.
Each church (``--pco-people`` people in PCO already, default ``--deliveries``) gets a push of
``--people`` new people (about 3 writes each), queued first, then
``--deliveries`` people edited in PCO and their signed ``person.updated`` deliveries through the webhook
route. Prints: PCO's 429s (target 0); each organisation's budget use from its first request to
its last (the first window left out: its burst would flatter it; target >= 90 %); the worst
wait of a delivery from receipt to applied (target <= 30 s); the total time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Sandbox, sandbox_process, signed_delivery, temp_database
from bench.processes import WORKER_CONFIG, Workers

EVENT = "people.v2.events.person.updated"


def site_app(config: dict[str, Any]) -> Any:
    """The many-church test site on ``config`` (its tables created, never emptied: workers
    start while the driver writes)."""
    from flask import Flask, request

    from flask_pco import PCO
    from tests.churches_site import Member, MemberEmail, churches_db

    pco = PCO(churches_db)
    pco.register_models(person=Member, email=MemberEmail, organization_column="church_id")
    pco.admin_access(lambda: True)
    pco.organization_loader(lambda: request.headers.get("X-Church"))
    app = Flask("churches_bench")
    app.config.update(config)
    churches_db.init_app(app)
    pco.init_app(app)
    with app.app_context():
        churches_db.create_all()
    return app


def site_config(database_url: str, sandbox: Sandbox, redis_url: str) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    from tests.churches_site import CLIENT

    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 60}},
        "PCO_APP_ID": "",
        "PCO_SECRET": "",
        "PCO_API_URL": sandbox.url,
        "PCO_OAUTH_CLIENT_ID": CLIENT["client_id"],
        "PCO_OAUTH_CLIENT_SECRET": CLIENT["client_secret"],
        "PCO_TOKEN_KEY": Fernet.generate_key().decode(),
        "PCO_REDIS_URL": redis_url,
        "PCO_QUEUE": f"churches-{uuid.uuid4().hex[:6]}",
        "PCO_PUBLIC_URL": "https://churches.example.org",
        "PCO_RATE_LIMIT": 100,  # PCO's documented budget; the sandbox's is learned from headers
        "PCO_RATE_PERIOD": 20,
    }


def connect(app: Any, sandbox: Sandbox, church: str, organization: str) -> None:
    """What "Connect Planning Center" stores for the church: an OAuth grant."""
    import requests

    from flask_pco.client.oauth import authorize_url, exchange_code
    from tests.churches_site import CLIENT, REDIRECT

    sandbox.control.set_oauth(auto_approve=True, organization=organization)
    url = authorize_url(sandbox.url, CLIENT["client_id"], REDIRECT, "people", "s")
    back = requests.get(url, allow_redirects=False, timeout=30)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    token = exchange_code(sandbox.url, code=code, redirect_uri=REDIRECT, **CLIENT)
    state = app.extensions["pco"].for_organization(church)
    state.token_store().connect(token, organization, f"org {organization}")


def prepare(app: Any, church: str, people: int) -> None:
    """``people`` local members to push, and the church's webhook subscription."""
    from flask_pco.state import current_pco
    from flask_pco.tenancy import use_organization
    from tests.churches_site import Member, MemberEmail, churches_db

    for n in range(people):
        member = Member(church_id=int(church), first_name=f"Local{n}", last_name=f"Church{church}")
        churches_db.session.add(member)
        churches_db.session.flush()
        email = f"local{n}.c{church}@example.org"
        churches_db.session.add(
            MemberEmail(church_id=int(church), person_id=member.id, email=email)
        )
    churches_db.session.commit()
    with use_organization(church):
        state = current_pco()
        state.db.session.add(state.models.WebhookSubscription(
            pco_id=f"sub-{church}", name=EVENT, url="https://churches.example.org/api/pco/webhook",
            secret=f"secret-{church}",
        ))  # fmt: skip
        state.db.session.commit()


def deliver(app: Any, sandbox: Sandbox, church: str, organization: str, count: int) -> None:
    """``count`` of the organisation's people's ``person.updated``, through the route."""
    from bench.common import SandboxControl

    with SandboxControl(sandbox.url, organization=organization) as control:
        ids = [record["id"] for record in control.state()["records"]["Person"][:count]]
        # Each person really changes in PCO first, so the payload is PCO's new version.
        records = [control.edit_person(pco_id, nickname=f"Edited {n}") for n, pco_id in enumerate(ids)]  # fmt: skip
    client = app.test_client()
    for record in records:
        attributes = {k: v for k, v in record.items() if k != "id"}
        resource = {"type": "Person", "id": record["id"], "attributes": attributes}
        body, headers = signed_delivery(str(uuid.uuid4()), EVENT, resource, f"secret-{church}")
        answer = client.post("/api/pco/webhook", data=body, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"delivery refused: {answer.status_code} {answer.text}")


def wait_for_everything(app: Any, runs: dict[str, int], timeout: float) -> dict[str, Any]:
    """Until every run has finished and every delivery was applied; what they did."""
    from sqlalchemy import select

    from flask_pco.state import current_pco

    state = current_pco()  # the whole site: no church's filter
    SyncRun, Delivery = state.models.SyncRun, state.models.WebhookDelivery
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state.db.session.rollback()
        statuses = state.db.session.scalars(select(SyncRun.status).where(SyncRun.id.in_(list(runs.values())))).all()  # fmt: skip
        waiting = state.db.session.scalars(select(Delivery.id).where(Delivery.status == "received")).all()  # fmt: skip
        if all(s in ("succeeded", "failed", "cancelled") for s in statuses) and not waiting:
            break
        time.sleep(1)
    rows = state.db.session.execute(select(Delivery.status, Delivery.received_at, Delivery.applied_at)).all()  # fmt: skip
    waits = sorted((a - r).total_seconds() for _, r, a in rows if a is not None)
    failed_runs = state.db.session.scalars(select(SyncRun.id).where(SyncRun.id.in_(list(runs.values())), SyncRun.status != "succeeded")).all()  # fmt: skip
    return {
        "deliveries": len(rows),
        "unapplied": sum(s != "applied" for s, _, _ in rows),
        "failed_runs": len(failed_runs),
        "worst_wait": waits[-1] if waits else 0.0,
        "median_wait": waits[len(waits) // 2] if waits else 0.0,
    }


def budget_use(
    url: str, organization: str, limit: int, period: int
) -> tuple[int, int, float, float, list[float]]:
    """The organisation's (requests, 429s, busy seconds, budget use after the first window,
    the times of its requests)."""
    from bench.common import SandboxControl

    with SandboxControl(url, organization=organization) as control:
        log = control.requests()
    stamp = lambda r: datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp()  # noqa: E731
    times = [stamp(r) for r in log if r["status"] != 429]
    refused = sum(r["status"] == 429 for r in log)
    if not times:
        return 0, refused, 0.0, 0.0, []
    start, end = min(times), max(times)
    steady = sum(t >= start + period for t in times)
    allowed = max(end - start - period, 0.0) * limit / period
    return len(times), refused, end - start, steady / allowed if allowed else 0.0, times


def print_windows(organizations: list[str], uses: list[Any], period: int) -> None:
    """Each organisation's requests in each window of ``period`` s from the first request
    of all: where a budget idled, and when."""
    start = min((min(u[4]) for u in uses if u[4]), default=0.0)
    for organization, use in zip(organizations, uses, strict=True):
        counts: dict[int, int] = {}
        for t in use[4]:
            counts[int((t - start) // period)] = counts.get(int((t - start) // period), 0) + 1
        row = " ".join(f"{counts.get(n, 0):>3}" for n in range(max(counts, default=-1) + 1))
        print(f"{organization:<14}{row}")


def run(args: argparse.Namespace) -> bool:
    from flask_pco.jobs.queue import start_sync
    from flask_pco.sandbox.specs import ORGANIZATION_ID
    from flask_pco.tenancy import use_organization

    limit, period = (int(x) for x in args.rate.partition("/")[::2])
    people, deliveries = (
        max(1, round(args.people * args.scale)),
        max(1, round(args.deliveries * args.scale)),
    )
    churches = [str(n) for n in range(1, args.churches + 1)]
    organizations = [ORGANIZATION_ID] + [f"4000{n:02d}" for n in range(2, args.churches + 1)]
    with ExitStack() as stack:
        extra = [(o, f"Church {o}") for o in organizations[1:]]
        seeded = max(args.pco_people or 0, deliveries)  # people each organisation holds in PCO
        sandbox = stack.enter_context(sandbox_process(seeded, rate_limit=limit, rate_period=period, organizations=extra))  # fmt: skip
        config = site_config(stack.enter_context(temp_database()), sandbox, args.redis_url)
        app = site_app(config)
        stack.enter_context(app.app_context())
        for church, organization in zip(churches, organizations, strict=True):
            connect(app, sandbox, church, organization)
            prepare(app, church, people)
        logs = Path(args.logs) if args.logs else None
        stack.enter_context(Workers(config, args.workers, log_dir=logs, module="bench.churches"))
        time.sleep(3)  # the workers start
        began = time.monotonic()
        runs = {}
        for church in churches:
            with use_organization(church):
                runs[church] = start_sync("push", "people", mode="enqueue", trigger="bench").id
        for church, organization in zip(churches, organizations, strict=True):
            deliver(app, sandbox, church, organization, deliveries)
        result = wait_for_everything(app, runs, timeout=3600)
        total = time.monotonic() - began
        uses = [budget_use(sandbox.url, o, limit, period) for o in organizations]
    print(f"{args.churches} churches, {args.workers} shared workers, budget {limit} per {period} s each; "
          f"each pushes {people} people and receives {deliveries} webhooks (scale {args.scale})")  # fmt: skip
    print(f"{'organisation':<14}{'requests':>9}{'429s':>6}{'busy s':>8}{'budget use':>12}")
    for organization, (requests_, refused, busy, use, _) in zip(organizations, uses, strict=True):
        print(f"{organization:<14}{requests_:>9}{refused:>6}{busy:>8.0f}{use:>12.1%}")
    if args.windows:
        print(f"requests per {period} s window, from the first request:")
        print_windows(organizations, uses, period)
    refused_total = sum(u[1] for u in uses)
    print(f"429s: {refused_total}; deliveries {result['deliveries']}, unapplied {result['unapplied']}, "
          f"failed runs {result['failed_runs']}; webhook wait median {result['median_wait']:.1f} s, "
          f"worst {result['worst_wait']:.1f} s; total {total:.0f} s")  # fmt: skip
    return refused_total == 0 and all(u[3] >= 0.9 for u in uses) and result["worst_wait"] <= 30


def serve_worker() -> None:
    """A worker process's entry point: the site from ``$PCO_BENCH_APP_CONFIG``."""
    import logging

    from flask_pco.jobs.workers import run_worker

    slices = logging.getLogger("flask_pco.jobs.slices")  # why each slice ended, in --logs
    slices.setLevel(logging.INFO)
    slices.addHandler(logging.StreamHandler())
    app = site_app(json.loads(os.environ[WORKER_CONFIG]))
    with app.app_context():
        run_worker()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--churches", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", default="100/20", help="each organisation's budget LIMIT/SECONDS")
    parser.add_argument("--people", type=int, default=200, help="people each church pushes")
    parser.add_argument("--deliveries", type=int, default=150, help="webhooks per church")
    parser.add_argument("--pco-people", type=int, default=0, help="people each church already has in PCO (at least --deliveries)")  # fmt: skip
    parser.add_argument("--scale", type=float, default=1.0, help="a share of people and webhooks")
    parser.add_argument("--windows", action="store_true", help="print requests per window")
    parser.add_argument("--logs", help="keep the workers' logs in this folder")
    parser.add_argument("--redis-url", default=os.environ.get("PCO_REDIS_URL", "redis://127.0.0.1:6379/11"))  # fmt: skip
    ok = run(parser.parse_args())
    print("OK" if ok else "TARGETS MISSED (see above)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if os.environ.get(WORKER_CONFIG):
        serve_worker()
    else:
        main()
