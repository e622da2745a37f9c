"""Webhook storm: signed person.updated deliveries, duplicated, shuffled and partly forged.

    python bench/storm.py                               # 10,000 deliveries, 4 clients, seed 1
    python bench/storm.py --deliveries 2000 --versions 4 --database postgresql

The example app runs under waitress (its own process, 127.0.0.1) with no Redis, so each
accepted delivery is applied inside its request: the response time is the apply latency.
PCO people (in a sandbox process) are pulled once so every local person is linked; each then
gets ``--versions`` realistic ``person.updated`` payloads at increasing ``updated_at``, the
last one being what PCO holds now. 30 % of the deliveries re-send an earlier one (same event
id), 1 % are forged (signed with a wrong secret, and would rename the person "Forged"); all
are shuffled and posted by ``--concurrency`` clients. Checks: every forged one answered 401
and changed nothing, every other one 200, one stored delivery per event, and each local person
equals PCO's latest version.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    app_config,
    build_app,
    sandbox_process,
    signed_delivery,
    temp_database,
)
from bench.processes import waitress_process

SECRET = "storm-webhook-secret"
UPDATED = "people.v2.events.person.updated"


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]
    forged: bool


@dataclass(frozen=True)
class StormResult:
    deliveries: int
    forged: int
    forged_rejected: int
    accepted: int
    other_statuses: dict[int, int]
    stored_events: int
    stored_statuses: dict[str, int]
    #: Why deliveries failed to apply (a few; the hourly housekeeping job retries them).
    failures: list[str]
    unique_events: int
    people: int
    people_at_latest: int
    forged_changes: int
    seconds: float
    latencies: list[float]

    @property
    def ok(self) -> bool:
        return (
            self.forged_rejected == self.forged
            and not self.other_statuses
            and self.stored_events == self.unique_events
            and set(self.stored_statuses) <= {"applied", "ignored"}
            and self.people_at_latest == self.people
            and self.forged_changes == 0
        )


def webhook_storm(
    deliveries: int,
    *,
    versions: int = 3,
    duplicate_share: float = 0.30,
    forged_share: float = 0.01,
    concurrency: int = 4,
    seed: int = 1,
    database: str = "sqlite",
) -> StormResult:
    rng = random.Random(seed)
    forged = max(1, round(deliveries * forged_share))
    resent = round(deliveries * duplicate_share)
    people = max(1, (deliveries - forged - resent) // versions)
    with temp_database(database) as database_url, sandbox_process() as sandbox:
        config = app_config(database_url, sandbox, PCO_WEBHOOK_SECRET=SECRET)
        ids = [
            sandbox.control.add_person(first_name=f"Storm{n}", last_name="Original")
            for n in range(people)
        ]
        _pull_everyone(config)
        latest = {pco_id: sandbox.control.edit_person(pco_id, last_name="Latest") for pco_id in ids}
        events = [d for pco_id in ids for d in _versions(latest[pco_id], versions)]
        batch = _storm(events, deliveries - len(events) - forged, forged, ids, rng)
        with waitress_process(config) as url:
            started = time.perf_counter()
            statuses, latencies = _post_all(url + "/api/pco/webhook", batch, concurrency)
            seconds = time.perf_counter() - started
        people_at_latest, forged_changes, stored, failures = _compare(
            config, sandbox.control.state()
        )
    return StormResult(
        deliveries=len(batch),
        forged=forged,
        forged_rejected=sum(s == 401 for s, d in zip(statuses, batch, strict=True) if d.forged),
        accepted=sum(s == 200 for s, d in zip(statuses, batch, strict=True) if not d.forged),
        other_statuses=dict(
            Counter(
                s for s, d in zip(statuses, batch, strict=True) if s != (401 if d.forged else 200)
            )
        ),
        stored_events=sum(stored.values()),
        stored_statuses=stored,
        failures=failures,
        unique_events=len(events),
        people=people,
        people_at_latest=people_at_latest,
        forged_changes=forged_changes,
        seconds=seconds,
        latencies=latencies,
    )


def _pull_everyone(config: dict[str, Any]) -> None:
    from flask_pco.jobs.queue import start_sync

    with build_app(config).app_context():
        run = start_sync("pull", "people", mode="inline", trigger="chaos")
        if run.status != "succeeded":
            raise RuntimeError(f"the initial pull {run.status}: {run.error_message}")


def _versions(latest: dict[str, Any], count: int) -> list[Delivery]:
    """``count`` versions of one person, a second apart, ending with what PCO holds now."""
    newest = datetime.fromisoformat(latest["updated_at"].replace("Z", "+00:00"))
    out = []
    for k in range(count):
        attributes = dict(latest)
        attributes.pop("id")
        if k < count - 1:
            attributes["last_name"] = f"Version{k}"
            at = newest - timedelta(seconds=count - 1 - k)
            attributes["updated_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        resource = {"type": "Person", "id": latest["id"], "attributes": attributes}
        out.append(Delivery(*signed_delivery(str(uuid.uuid4()), UPDATED, resource, SECRET), False))
    return out


def _storm(
    events: list[Delivery], resent: int, forged: int, ids: list[str], rng: random.Random
) -> list[Delivery]:
    """Events, re-sends of random events, and forgeries, shuffled."""
    batch = events + [rng.choice(events) for _ in range(max(resent, 0))]
    for _ in range(forged):
        resource = {
            "type": "Person",
            "id": rng.choice(ids),
            "attributes": {"first_name": "Forged", "last_name": "Forged",
                           "updated_at": "2099-01-01T00:00:00Z"},
        }  # fmt: skip
        body, headers = signed_delivery(str(uuid.uuid4()), UPDATED, resource, "not-the-secret")
        batch.append(Delivery(body, headers, True))
    rng.shuffle(batch)
    return batch


def _post_all(url: str, batch: list[Delivery], concurrency: int) -> tuple[list[int], list[float]]:
    local = threading.local()

    def post(delivery: Delivery) -> tuple[int, float]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        began = time.perf_counter()
        response = session.post(url, data=delivery.body, headers=delivery.headers, timeout=120)
        return response.status_code, time.perf_counter() - began

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(post, batch))
    return [r[0] for r in results], [r[1] for r in results]


def _compare(
    config: dict[str, Any], pco: dict[str, Any]
) -> tuple[int, int, dict[str, int], list[str]]:
    """Local people equal to PCO's latest, people a forgery renamed, stored events by status,
    and why the failed ones failed."""
    from example_app.models import Person, db

    latest = {p["id"]: (p["first_name"], p["last_name"]) for p in pco["records"]["Person"]}
    with build_app(config).app_context():
        from flask_pco.extension import current_pco

        rows = db.session.scalars(db.select(Person)).all()
        at_latest = sum(latest.get(p.pco_id) == (p.first_name, p.last_name) for p in rows)
        forged = sum("Forged" in (p.first_name, p.last_name) for p in rows)
        Delivery_ = current_pco().models.WebhookDelivery
        stored = Counter(db.session.scalars(db.select(Delivery_.status)))
        failed = db.select(Delivery_.error_message).where(Delivery_.status == "failed").limit(5)
        failures = [str(message)[:300] for message in db.session.scalars(failed)]
    return at_latest, forged, dict(stored), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=3, help="updates per person")
    parser.add_argument("--concurrency", type=int, default=4, help="clients posting at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    result = webhook_storm(
        args.deliveries,
        versions=args.versions,
        concurrency=args.concurrency,
        seed=args.seed,
        database=args.database,
    )
    lat = sorted(result.latencies)
    p95 = lat[int(len(lat) * 0.95) - 1] if len(lat) >= 20 else lat[-1]
    print(
        f"deliveries          {result.deliveries} ({result.unique_events} events, {result.forged} forged)"
    )
    print(
        f"forged rejected     {result.forged_rejected}/{result.forged} (401); renamed by forgery {result.forged_changes}"
    )
    print(
        f"accepted            {result.accepted} (200); unexpected statuses {result.other_statuses}"
    )
    print(
        f"stored events       {result.stored_events} (unique {result.unique_events}) {result.stored_statuses}"
    )
    for failure in result.failures:
        print(f"  failed: {failure}")
    print(f"people at latest    {result.people_at_latest}/{result.people}")
    print(
        f"throughput          {result.deliveries / result.seconds:.1f} deliveries/s ({result.seconds:.1f} s)"
    )
    print(
        f"apply latency       median {statistics.median(lat) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms,"
        f" max {lat[-1] * 1000:.0f} ms (response time; applied inline)"
    )
    print("OK" if result.ok else "FAILED: an invariant does not hold")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
