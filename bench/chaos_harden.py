"""Hardening chaos: one pull meets a Redis outage, PostgreSQL connections killed, a page with
invalid records and webhook re-fetches answered out of order, with secrets planted throughout.

    python bench/chaos_harden.py                         # 300 people on PostgreSQL
    python bench/chaos_harden.py --people 2000 --database sqlite

A sandbox process holds the people, three of them bad (a 175-character last name, a 300-
character email, a NUL inside a name). A clean pull into a fresh database is the reference.
Then the same pull runs on an RQ worker against a Redis of its own (with a planted password):
Redis is stopped mid-run and started again, PostgreSQL's connections are terminated, and the
pull is started again whenever a run ends failed, as the nightly job would. Afterwards pairs of
PCO edits that share one ``updated_at`` are delivered as webhooks whose first re-fetch is
answered late, garbage and odd headers are posted too, and everything flask-pco wrote for
people to read is searched for the planted secrets.

Checks: local people equal the clean run's; every bad record is named in an issue; the webhook
route never answered 5xx; people edited by webhooks end at PCO's latest version; no planted
secret in the worker logs, the stored messages or the CLI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    POSTGRES_ADMIN_URL,
    Sandbox,
    app_config,
    build_app,
    sandbox_process,
    signed_delivery,
    temp_database,
    wait_for_run,
)
from bench.processes import Workers, free_port, waitress_process

REDIS_PASSWORD = "planted-redis-password"
SECRET = "planted-webhook-secret"
SAME_SECOND = "2099-01-01T00:00:00Z"
UPDATED = "people.v2.events.person.updated"


@dataclass
class ChaosResult:
    people: int
    runs: list[str]
    redis_stopped_seconds: float
    connections_killed: int
    equal_to_clean: bool
    differences: list[str]
    bad_records: int
    bad_records_named: int
    webhook_statuses: dict[int, int]
    webhook_people: int
    webhook_people_at_latest: int
    leaks: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.equal_to_clean
            and self.bad_records_named == self.bad_records
            and not any(status >= 500 for status in self.webhook_statuses)
            and self.webhook_people_at_latest == self.webhook_people
            and not self.leaks
        )


class PrivateRedis:
    """A redis-server of this run's own, on its own port, with a password: stop and start it
    at will without touching anybody else's Redis."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--requirepass", REDIS_PASSWORD, "--save", "", "--appendonly", "no"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def add_bad_records(sandbox: Sandbox) -> list[str]:
    """PCO people the site's columns cannot hold as they are; each must be named in an issue."""
    control = sandbox.control
    return [
        control.add_person(first_name="Long", last_name="L" * 175),
        control.add_person(
            first_name="Mail", last_name="Long", emails=["m" * 300 + "@example.org"]
        ),
    ]


def people_view() -> list[tuple[Any, ...]]:
    """Local people as a clean run would leave them, without local ids (insert order varies)."""
    from example_app.models import Person

    return sorted(
        (
            p.pco_id,
            p.first_name,
            p.last_name,
            p.is_active,
            tuple(sorted(e.email.lower() for e in p.emails)),
            tuple(sorted(ph.phone for ph in p.phones)),
        )
        for p in Person.query.all()
    )


def clean_pull(sandbox: Sandbox, database: str) -> list[tuple[Any, ...]]:
    """The reference: one pull without faults, applied in this process."""
    from flask_pco.jobs.queue import start_sync

    with temp_database(database) as url:
        app = build_app(app_config(url, sandbox, PCO_PER_PAGE=25))
        with app.app_context():
            run = start_sync("pull", "people", trigger="bench", mode="thread")
            if wait_for_run(run.id).status != "succeeded":
                raise RuntimeError("the clean pull did not succeed")
            view = people_view()
            _close_connections()
    return view


def _close_connections() -> None:
    """Hand back the app's connections before its database is dropped or killed."""
    from example_app.models import db

    db.session.remove()
    db.engine.dispose()


def kill_connections(database_url: str) -> int:
    """Terminate every server process of the run's PostgreSQL database; how many there were."""
    from sqlalchemy import create_engine, text

    name = database_url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar()
    admin.dispose()
    return int(killed or 0)


def chaos_pull(
    sandbox: Sandbox, database_url: str, redis: PrivateRedis, log_dir: Path, outage: float
) -> tuple[list[str], int]:
    """Pull on a worker while Redis goes away and PostgreSQL drops connections; start it
    again after each failed run. Returns the runs' statuses and the connections killed."""
    from flask_pco.jobs.queue import start_sync

    config = app_config(database_url, sandbox, PCO_PER_PAGE=25, PCO_REDIS_URL=redis.url,
                        PCO_WEBHOOK_SECRET=SECRET)  # fmt: skip
    app = build_app(config)
    statuses: list[str] = []
    killed = 0
    sandbox.control.set_faults(latency_ms=30)
    with app.app_context(), Workers(config, count=1, log_dir=log_dir):
        run_id = start_sync("pull", "people", trigger="bench", mode="enqueue").id
        for _ in range(300):  # until the worker has started it (its start-up takes a while)
            if _status(run_id) != "queued":
                break
            time.sleep(0.1)
        time.sleep(0.3)
        statuses.append(f"{_status(run_id)} when Redis stopped")
        redis.stop()
        time.sleep(outage)
        redis.start()
        if database_url.startswith("postgresql"):
            time.sleep(0.5)
            killed = kill_connections(database_url)
        sandbox.control.set_faults()
        for _ in range(6):
            status = _finished(run_id)
            statuses.append(status)
            if status.startswith("succeeded"):
                break
            run_id = start_sync("pull", "people", trigger="bench", mode="enqueue").id
        _close_connections()
    return statuses, killed


def _finished(run_id: int, timeout: float = 600) -> str:
    """How the run ended, looking as the admin page's poll does: each look releases a run that
    nothing can finish any more (its work horse gone with Redis). A dropped database
    connection is replaced on the next look."""
    from sqlalchemy.exc import DBAPIError

    from flask_pco.extension import current_pco
    from flask_pco.jobs.run_status import release_lost_runs

    state = current_pco()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state.db.session.rollback()
            release_lost_runs(state)
            run = state.db.session.get(state.models.SyncRun, run_id)
            if run is not None and run.status not in ("queued", "running"):
                return _described(run)
        except DBAPIError:
            state.db.session.rollback()
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} did not finish within {timeout:.0f} s")


def _status(run_id: int) -> str:
    from flask_pco.extension import current_pco

    state = current_pco()
    state.db.session.rollback()
    return str(state.db.session.get(state.models.SyncRun, run_id).status)


def _described(run: Any) -> str:
    return str(run.status) + (f" ({run.error_message})" if run.error_message else "")


def reordered_webhooks(
    sandbox: Sandbox, config: dict[str, Any], people: list[str]
) -> tuple[dict[int, int], int]:
    """For each person: two PCO edits in one second, the first delivery's re-fetch answered
    1 s late, the second posted meanwhile; plus garbage and odd headers. Returns the HTTP
    statuses and how many people ended at PCO's latest version."""
    from example_app.models import Person

    statuses: dict[int, int] = {}

    def post(raw: bytes, headers: dict[str, str]) -> None:
        status = requests.post(
            url + "/api/pco/webhook", data=raw, headers=headers, timeout=60
        ).status_code
        statuses[status] = statuses.get(status, 0) + 1

    control = sandbox.control
    with waitress_process({**config, "PCO_REDIS_URL": ""}, threads=8) as url:
        for pco_id in people:
            control.set_clock(SAME_SECOND)
            older = control.edit_person(pco_id, last_name="Older")
            control.set_faults(slow_read_seconds=1.0)
            first = threading.Thread(target=post, args=_delivery(older))
            first.start()
            time.sleep(0.3)
            control.set_faults()
            latest = control.edit_person(pco_id, last_name="Latest")
            post(*_delivery(latest))
            first.join()
            control.set_clock(None)
        for raw, headers in _garbage():
            post(raw, headers)
    at_latest = sum(
        1 for pco_id in people
        if (row := Person.query.filter_by(pco_id=pco_id).one_or_none()) and row.last_name == "Latest"
    )  # fmt: skip
    return statuses, at_latest


def _delivery(record: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    attributes = {k: record.get(k) for k in ("first_name", "last_name", "updated_at", "status")}
    resource = {"type": "Person", "id": record["id"], "attributes": attributes}
    return signed_delivery(str(uuid.uuid4()), UPDATED, resource, SECRET)


def _garbage() -> list[tuple[bytes, dict[str, str]]]:
    """Bodies and headers an attacker or a broken proxy might send: none may cause a 5xx."""
    from flask_pco.sandbox import sign_body

    deep = b'{"data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    raw, headers = signed_delivery(
        str(uuid.uuid4()), UPDATED, {"type": "Person", "id": "1\x002", "attributes": {}}, SECRET
    )
    return [
        (deep, {"X-PCO-Webhooks-Authenticity": sign_body(deep, SECRET)}),
        (raw, headers),
        (b"{}", {"X-PCO-Webhooks-Authenticity": "\xe9\xff" * 32}),
        (b"not json", {"X-PCO-Webhooks-Authenticity": sign_body(b"not json", SECRET)}),
    ]


def named_in_issues(pco_ids: list[str]) -> int:
    from flask_pco.extension import current_pco

    state = current_pco()
    Issue = state.models.SyncIssue
    named = {i.pco_id for i in state.db.session.query(Issue).filter(Issue.pco_id.in_(pco_ids))}
    return len(named)


def leaks(log_dir: Path, planted: list[str]) -> list[str]:
    """Where a planted secret shows: a worker log file or a message stored for people."""
    from flask_pco.extension import current_pco

    state = current_pco()
    models = state.models
    session = state.db.session
    stored = [
        *session.scalars(session.query(models.SyncRun.error_message).statement),
        *session.scalars(session.query(models.SyncIssue.reason).statement),
        *session.scalars(session.query(models.WebhookDelivery.error_message).statement),
    ]
    found = [
        f"stored message: {secret}"
        for secret in planted
        for text in stored
        if text and secret in text
    ]
    for log in log_dir.glob("*.log"):
        content = log.read_text(errors="replace")
        found += [f"{log.name}: {secret}" for secret in planted if secret in content]
    return found


def harden_chaos(
    people: int = 300, database: str = "postgresql", outage: float = 3.0, edited: int = 5
) -> ChaosResult:
    started = time.perf_counter()
    with (
        sandbox_process(people) as sandbox,
        private_redis() as redis,
        temp_database(database) as url,
    ):
        bad = add_bad_records(sandbox)
        nul = sandbox.control.add_person(first_name="Nu\x00ll", last_name="Byte")
        clean = clean_pull(sandbox, database)
        with tempfile.TemporaryDirectory() as folder:
            log_dir = Path(folder)
            runs, killed = chaos_pull(sandbox, url, redis, log_dir, outage)
            config = app_config(url, sandbox, PCO_PER_PAGE=25, PCO_WEBHOOK_SECRET=SECRET)
            app = build_app(config)
            with app.app_context():
                view = people_view()
                differences = [str(row) for row in set(view) ^ set(clean)][:10]
                named = named_in_issues(bad)
                chosen = [row[0] for row in view if row[0] not in (*bad, nul)][:edited]
                statuses, at_latest = reordered_webhooks(sandbox, config, chosen)
                found = leaks(log_dir, [REDIS_PASSWORD, sandbox.secret, SECRET])
                _close_connections()
    return ChaosResult(
        people=people + 3,
        runs=runs,
        redis_stopped_seconds=outage,
        connections_killed=killed,
        equal_to_clean=not differences,
        differences=differences,
        bad_records=len(bad),
        bad_records_named=named,
        webhook_statuses=statuses,
        webhook_people=len(chosen),
        webhook_people_at_latest=at_latest,
        leaks=found,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds Redis stays down")
    args = parser.parse_args()
    result = harden_chaos(args.people, args.database, args.outage)
    print(f"people in PCO            {result.people:,} ({result.bad_records} that no column holds)")
    print("runs                     " + "\n                         ".join(result.runs))
    print(f"Redis down               {result.redis_stopped_seconds:.1f} s mid-run")
    print(f"connections killed       {result.connections_killed}")
    print(
        f"equal to a clean run     {'yes' if result.equal_to_clean else 'NO: ' + '; '.join(result.differences)}"
    )
    print(f"bad records named        {result.bad_records_named} of {result.bad_records}")
    print(f"webhook answers          {dict(sorted(result.webhook_statuses.items()))}")
    print(f"webhook people at latest {result.webhook_people_at_latest} of {result.webhook_people}")
    print(f"planted secrets found    {len(result.leaks)} {result.leaks or ''}")
    print(f"seconds                  {result.seconds:.1f}")
    print("OK" if result.ok else "FAILED")
    raise SystemExit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
