"""Set-up shared by the chaos and budget runs (and their reduced tests in ``tests/chaos``).

A sandbox in its own process (so it does not share the driver's interpreter lock), the example
app on a throw-away SQLite or PostgreSQL database, local people to push, signed webhook bodies,
and the comparable view of what PCO and the local database hold. The worker and web-server
processes the runs start (and kill) are in ``bench/processes.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from flask_pco.sandbox import SandboxControl  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "PCO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FINISHED = ("succeeded", "failed", "cancelled")


@dataclass
class Sandbox:
    """A sandbox process: its base URL, its credential and a control client."""

    url: str
    app_id: str
    secret: str
    control: SandboxControl


@contextmanager
def sandbox_process(
    people: int = 0,
    *,
    rate_limit: int = 100_000,
    rate_period: int = 1,
    app_id: str = "",
    organizations: list[tuple[str, str]] | None = None,
) -> Iterator[Sandbox]:
    """A sandbox in a child process; a unique app id keeps its Redis budget to itself."""
    app_id = app_id or f"bench-{uuid.uuid4().hex[:8]}"
    secret = f"{app_id}-secret"
    code = (
        "import sys\n"
        "from flask_pco.sandbox import SandboxServer, create_sandbox_app\n"
        f"app = create_sandbox_app(people={people}, seed=1, app_id={app_id!r}, secret={secret!r},"
        f" rate_limit={rate_limit}, rate_period={rate_period}, organizations={organizations or []!r})\n"
        "server = SandboxServer(app).start(); print(server.url, flush=True); sys.stdin.read()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    with process:  # closes the pipes on the way out
        try:
            url = process.stdout.readline().strip()
            if not url:
                raise RuntimeError("the sandbox process did not start")
            with SandboxControl(url, timeout=120) as control:
                yield Sandbox(url, app_id, secret, control)
        finally:
            process.stdin.close()  # end of input: the server process exits
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def temp_database(kind: str = "sqlite") -> Iterator[str]:
    """A fresh database URL, dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite"
        return
    if kind != "postgresql":
        raise SystemExit(f"unknown database {kind!r}: use sqlite or postgresql")
    from sqlalchemy import create_engine, text

    name = f"flask_pco_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_config(database_url: str, sandbox: Sandbox, **settings: Any) -> dict[str, Any]:
    """The example app's config against ``sandbox``; JSON-serialisable for worker processes."""
    config: dict[str, Any] = {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PCO_API_URL": sandbox.url,
        "PCO_APP_ID": sandbox.app_id,
        "PCO_SECRET": sandbox.secret,
        "PCO_RATE_LIMIT": 100_000,
        "PCO_RATE_PERIOD": 1,
        # The example app also reads PCO_* from the environment: no Redis unless asked for here.
        "PCO_REDIS_URL": "",
    }
    if database_url.startswith("sqlite"):
        # Workers and the driver write the same file: wait for the lock instead of failing.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 60}}
    config.update(settings)
    return config


def build_app(config: dict[str, Any]) -> Flask:
    """The example app with its tables created."""
    from example_app import create_app
    from example_app.models import db

    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def signed_delivery(
    event_id: str, name: str, resource: dict[str, Any], secret: str
) -> tuple[bytes, dict[str, str]]:
    """A PCO webhook body holding one EventDelivery, and its headers signed with ``secret``."""
    from flask_pco.sandbox import sign_body

    document = {
        "data": resource,
        "included": [],
        "meta": {"event_time": resource["attributes"].get("updated_at")},
    }
    delivery = {
        "id": event_id,
        "type": "EventDelivery",
        "attributes": {
            "name": name,
            "attempt": 1,
            "payload": json.dumps(document, separators=(",", ":")),
        },
    }
    raw = json.dumps({"data": [delivery]}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PCO-Webhooks-Authenticity": sign_body(raw, secret),
    }
    return raw, headers


def wait_for_run(run_id: int, timeout: float = 3600) -> Any:
    """Poll the run row (committed by a worker) until it has finished; return it."""
    from flask_pco.extension import current_pco

    state = current_pco()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state.db.session.rollback()
        run = state.db.session.get(state.models.SyncRun, run_id)
        if run is not None and run.status in FINISHED:
            return run
        time.sleep(0.1)
    raise TimeoutError(f"run {run_id} did not finish within {timeout:.0f} s")


def seed_local_people(count: int, prefix: str = "Local") -> None:
    """``count`` new local people, each with one email and one mobile phone."""
    from example_app.models import Person, PersonEmail, PersonPhone, db

    for n in range(count):
        person = Person(first_name=f"{prefix}{n}", last_name="Chaos", is_active=True)
        db.session.add(person)
        db.session.flush()
        email = f"{prefix.lower()}{n}@example.org"
        db.session.add(PersonEmail(person_id=person.id, email=email, is_primary=True))
        phone = f"+1503555{n % 10_000:04d}"
        db.session.add(
            PersonPhone(person_id=person.id, phone=phone, kind="Mobile", is_primary=True)
        )
    db.session.commit()


def pco_people(control: SandboxControl) -> list[tuple[Any, ...]]:
    """Every PCO person as (remote_id, first, last, emails, phones), sorted, duplicates kept."""
    records = control.state()["records"]
    # Lists, not sets: an email or phone pushed twice to one person must show as a difference.
    emails: dict[str, list[str]] = {}
    phones: dict[str, list[str]] = {}
    for email in records.get("Email", []):
        emails.setdefault(email["person_id"], []).append(email["address"].lower())
    for phone in records.get("PhoneNumber", []):
        phones.setdefault(phone["person_id"], []).append(phone.get("e164") or phone["number"])
    people = [
        (
            str(p.get("remote_id") or ""),
            p.get("first_name"),
            p.get("last_name"),
            tuple(sorted(emails.get(p["id"], ()))),
            tuple(sorted(phones.get(p["id"], ()))),
        )
        for p in records.get("Person", [])
    ]
    return sorted(people)


def duplicates(people: list[tuple[Any, ...]]) -> int:
    """PCO people beyond the first per remote_id (people we never pushed have none)."""
    counts = Counter(p[0] for p in people if p[0])
    return sum(n - 1 for n in counts.values())


def local_people() -> list[tuple[Any, ...]]:
    """Every local person as (id, pco_id, first, last, emails, phones), sorted."""
    from example_app.models import Person

    rows = Person.query.order_by(Person.id).all()
    return [
        (
            p.id,
            p.pco_id,
            p.first_name,
            p.last_name,
            tuple(sorted(e.email.lower() for e in p.emails)),
            tuple(sorted(ph.phone for ph in p.phones)),
        )
        for p in rows
    ]


def unlinked_rows() -> int:
    """Local people, emails and phones still without a PCO id."""
    from example_app.models import Person, PersonEmail, PersonPhone, db

    return sum(
        db.session.scalar(db.select(db.func.count()).select_from(m).where(m.pco_id.is_(None))) or 0
        for m in (Person, PersonEmail, PersonPhone)
    )
