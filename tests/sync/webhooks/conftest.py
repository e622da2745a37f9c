"""Webhook fixtures: the example app with a webhook secret, and factories for signed deliveries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from flask_pco.web.webhook import sign_body
from tests.conftest import make_app
from tests.helpers import sandbox_settings

SECRET = "test-webhook-secret"
ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "pco_examples"
EXAMPLE_SECRET = "5f2c8a0d9e7b4c1a3f6e8d0b2a4c6e8f5f2c8a0d9e7b4c1a3f6e8d0b2a4c6e8f"
URL = "/api/pco/webhook"
#: A local port nothing listens on: tests that do not start a sandbox never reach out.
NO_PCO = "http://127.0.0.1:9"
#: What a person payload carries that the sync reads.
PERSON_ATTRIBUTES = (
    "first_name",
    "last_name",
    "gender",
    "birthdate",
    "child",
    "status",
    "inactivated_at",
    "updated_at",
)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The example app on each database, with webhook secrets; tests that apply use ``church``."""
    application = make_app(
        database_url,
        PCO_WEBHOOK_SECRET=[SECRET, EXAMPLE_SECRET],
        PCO_API_URL=NO_PCO,
    )
    with application.app_context():
        yield application


def person_resource(pco_id: str = "90000104", **attributes: Any) -> dict[str, Any]:
    """A Person as PCO renders it in a webhook payload."""
    values = {
        "first_name": "Dana",
        "last_name": "Newcomer",
        "gender": "Female",
        "birthdate": "1990-04-02",
        "child": False,
        "status": "active",
        "inactivated_at": None,
        "created_at": "2025-03-15T10:00:00Z",
        "updated_at": "2025-03-15T10:00:00Z",
    }
    values.update(attributes)
    return {
        "type": "Person",
        "id": pco_id,
        "attributes": values,
        "relationships": {"primary_campus": {"data": None}},
        "links": {"self": f"https://api.planningcenteronline.com/people/v2/people/{pco_id}"},
    }


def destroyed_resource(type_: str, pco_id: str, **relationships: str) -> dict[str, Any]:
    """A destroyed record: no attributes, only type, id, relationships and a self link."""
    return {
        "type": type_,
        "id": pco_id,
        "relationships": {
            name: {"data": {"type": "Person", "id": value}} for name, value in relationships.items()
        },
        "links": {"self": f"https://api.planningcenteronline.com/people/v2/x/{pco_id}"},
    }


def payload(resource: dict[str, Any], event_time: str | None = "2025-03-15T10:00:01Z") -> str:
    meta: dict[str, Any] = {"parent": {"id": "300001", "type": "Organization"}}
    if event_time is not None and "attributes" in resource:
        meta.update(event_time=event_time, idempotency_token=str(uuid.uuid4()))
    document: dict[str, Any] = {"data": resource, "meta": meta}
    if "attributes" in resource:
        document["included"] = []
    return json.dumps(document, separators=(",", ":"))


def delivery_body(
    name: str,
    resource: dict[str, Any],
    *,
    event_id: str | None = None,
    attempt: int = 1,
    event_time: str | None = "2025-03-15T10:00:01Z",
) -> bytes:
    """The exact bytes PCO posts: an EventDelivery array whose payload is a JSON string."""
    delivery = {
        "id": event_id or str(uuid.uuid4()),
        "type": "EventDelivery",
        "attributes": {"name": name, "attempt": attempt, "payload": payload(resource, event_time)},
        "relationships": {"organization": {"data": {"type": "Organization", "id": "300001"}}},
    }
    return json.dumps({"data": [delivery]}, separators=(",", ":")).encode()


def post(client: Any, raw: bytes, *, secret: str | None = SECRET, **headers: str) -> Any:
    """POST raw bytes to the webhook route, signed with ``secret`` unless it is None."""
    sent = {"Content-Type": "application/json", **headers}
    if secret is not None:
        sent["X-PCO-Webhooks-Authenticity"] = sign_body(raw, secret)
    return client.post(URL, data=raw, headers=sent)


def deliveries(db: Any) -> list[Any]:
    from example_app import pco

    Delivery = pco.models.WebhookDelivery
    db.session.expire_all()
    return list(db.session.scalars(db.select(Delivery).order_by(Delivery.id)))


class LiveApp:
    """The example app served by a real threaded werkzeug server on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        configure: Callable[[str], dict[str, Any]] | None = None,
        factory: Callable[..., Flask] = make_app,
        **config: Any,
    ) -> None:
        """``configure(webhook_url)`` may add settings that depend on the URL (a secret);
        ``factory(database_url, **config)`` makes the site (default: the example app)."""
        self._server = make_server("127.0.0.1", 0, _not_ready, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        if configure is not None:
            config.update(configure(self.url + URL))
        self.app = factory(database_url, PCO_PUBLIC_URL=self.url, **config)
        self._server.app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def webhook_url(self) -> str:
        return self.url + URL

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A PCO sandbox on a real local port, with short webhook retries."""
    from flask_pco.sandbox import SandboxServer, create_sandbox_app

    with SandboxServer(create_sandbox_app(webhook_retry_delays=(0.2, 0.5))) as server:
        yield server


@pytest.fixture
def live(database_url: str, sandbox: Any) -> Iterator[LiveApp]:
    """The example app served live, talking to the sandbox; its app context is pushed."""
    server = LiveApp(
        database_url,
        **sandbox_settings(sandbox.url),
        PCO_WEBHOOK_SECRET=[SECRET, EXAMPLE_SECRET],
    )
    with server.app.app_context():
        yield server
    server.stop()


class Church:
    """Both sides of a test: PCO (the sandbox's store) and the local tables of the live app."""

    def __init__(self, live: LiveApp, sandbox: Any) -> None:
        self.live, self.sandbox = live, sandbox
        self.client = live.app.test_client()

    def add_pco_person(self, first: str = "Dana", last: str = "Newcomer", **spec: Any) -> str:
        return self.sandbox.control.add_person(first_name=first, last_name=last, **spec)

    def pco(self, table: str, record_id: str) -> dict[str, Any]:
        return dict(self.sandbox.sandbox.store.get(table, record_id))

    def pco_ids(self, table: str, person_id: str) -> list[str]:
        return self.sandbox.sandbox.store.lookup(table, "person_id", person_id)

    def person_event(self, action: str, pco_id: str, **attributes: Any) -> bytes:
        """A person event as PCO would send it now for the sandbox's record."""
        name = f"people.v2.events.person.{action}"
        if action == "destroyed":
            return delivery_body(name, destroyed_resource("Person", pco_id), event_time=None)
        record = self.pco("Person", pco_id)
        fields = {k: record.get(k) for k in PERSON_ATTRIBUTES}
        return delivery_body(name, person_resource(pco_id, **{**fields, **attributes}))

    def post(self, raw: bytes, **headers: str) -> Any:
        response = post(self.client, raw, **headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def local(self, pco_id: str) -> Any:
        from example_app.models import Person, db

        db.session.expire_all()
        return db.session.scalar(db.select(Person).where(Person.pco_id == pco_id))

    def pco_requests(self) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.sandbox.control.requests()]


@pytest.fixture
def church(live: LiveApp, sandbox: Any) -> Church:
    return Church(live, sandbox)


@pytest.fixture
def queued(
    request: pytest.FixtureRequest, database_url: str, sandbox: Any, redis_url: str
) -> Iterator[Church]:
    """The example app with Redis (deliveries become RQ jobs), talking to the sandbox.

    Indirect parametrization adds settings: ``@pytest.mark.parametrize("queued",
    [{"PCO_WEBHOOK_BATCH": 2}], indirect=True)``.
    """
    live = LiveApp(
        database_url,
        **sandbox_settings(sandbox.url),
        PCO_WEBHOOK_SECRET=[SECRET, EXAMPLE_SECRET],
        PCO_REDIS_URL=redis_url,
        **getattr(request, "param", {}),
    )
    with live.app.app_context():
        yield Church(live, sandbox)
    live.stop()


def start_worker(
    database_url: str, redis_url: str, sandbox_url: str, crash_marker: Path, log: Path
) -> subprocess.Popen[bytes]:
    """A forking ``flask pco worker --burst`` (``worker_app.py``) on the test's database,
    Redis and sandbox; it ends when the queue is empty."""
    env = {
        **os.environ,
        **sandbox_settings(sandbox_url),
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "PCO_REDIS_URL": redis_url,
        "CRASH_MARKER": str(crash_marker),
    }
    flask = [sys.executable, "-m", "flask", "--app", "tests/sync/webhooks/worker_app.py", "pco"]
    with log.open("ab") as output:
        return subprocess.Popen(
            [*flask, "worker", "--burst"], cwd=ROOT, env=env, stdout=output, stderr=output
        )


def finish(worker: subprocess.Popen[bytes], log: Path) -> None:
    assert worker.wait(timeout=120) == 0, log.read_text()
