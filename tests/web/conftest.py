"""Admin-page fixtures: the example app pointed at a live sandbox, logins, CSRF tokens, rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from flask_pco.models import utcnow
from flask_pco.sandbox import SandboxServer, create_sandbox_app
from tests.conftest import make_app
from tests.helpers import sandbox_settings

ADMIN_URL = "/admin/pco-sync/"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One live PCO sandbox for the admin tests; each test that changes it resets it."""
    with SandboxServer(create_sandbox_app(people=6, seed=7)) as server:
        yield server


@pytest.fixture
def app(database_url: str, sandbox: SandboxServer) -> Iterator[Flask]:
    """The example site on each database, talking to the sandbox."""
    sandbox.control.reset(people=6, seed=7)
    application = make_app(
        database_url,
        **sandbox_settings(sandbox.url),
        PCO_PUBLIC_URL="https://church.example.org",
        PCO_WEBHOOK_SECRET="do-not-show-this-webhook-secret",
    )
    with application.app_context():
        yield application


@pytest.fixture
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL the site's engine sends to the database while the test runs, in order."""
    from example_app.models import db

    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])  # (connection, cursor, statement, parameters, ...)

    event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    event.remove(db.engine, "before_cursor_execute", record)


def make_user(role: str = "admin", email: str | None = None) -> Any:
    from example_app.models import User, db

    user = User(email=email or f"{role}@church.example", role=role)
    user.set_password("correct horse")
    db.session.add(user)
    db.session.commit()
    return user


def log_in(client: FlaskClient, user: Any) -> FlaskClient:
    """Flask-Login's session keys, as its login form would set them."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


@pytest.fixture
def admin_client(client: FlaskClient) -> FlaskClient:
    return log_in(client, make_user("admin"))


@pytest.fixture
def staff_client(client: FlaskClient) -> FlaskClient:
    return log_in(client, make_user("staff"))


def csrf_token(client: FlaskClient) -> str:
    """A valid token for this client's session, read from a page the way a browser gets it."""
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the login page carries a CSRF token"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, htmx: bool = False):  # type: ignore[no-untyped-def]
    """POST with a valid CSRF token, as a plain form or as htmx (token in the header)."""
    token = csrf_token(client)
    if htmx:
        return client.post(
            path, data=data or {}, headers={"HX-Request": "true", "X-CSRFToken": token}
        )
    return client.post(path, data={**(data or {}), "csrf_token": token})


def make_run(status: str = "succeeded", **values: Any) -> Any:
    """A top-level sync-log row, as a finished or running sync leaves it."""
    from example_app.models import db
    from flask_pco.extension import current_pco

    SyncRun = current_pco().models.SyncRun
    now = utcnow()
    row = SyncRun(
        organization=current_pco().organization_key(),
        sync_type=values.pop("sync_type", "full"),
        direction=values.pop("direction", "pull"),
        status=status,
        trigger="admin",
        **{
            "started_at": now,
            "heartbeat_at": now,
            "finished_at": None if status in ("queued", "running") else now,
            **values,
        },
    )
    db.session.add(row)
    db.session.commit()
    return row


def finish_run(run: Any, status: str = "succeeded") -> None:
    """Close a run row as its worker would at the end."""
    from example_app.models import db

    run.status, run.finished_at = status, utcnow()
    db.session.commit()


def make_person(**values: Any) -> Any:
    from example_app.models import Person, db

    person = Person(**{"first_name": "Ada", "last_name": "Lovelace", **values})
    db.session.add(person)
    db.session.commit()
    return person


def make_conflict(person: Any, field: str, local: Any, pco: Any, base: Any) -> Any:
    from example_app.models import db
    from flask_pco.extension import current_pco

    conflict = current_pco().models.Conflict(
        role="person",
        local_id=person.id,
        pco_id=person.pco_id,
        field=field,
        base_value=base,
        local_value=local,
        pco_value=pco,
    )
    db.session.add(conflict)
    db.session.commit()
    return conflict


def make_issue(**values: Any) -> Any:
    from example_app.models import db
    from flask_pco.extension import current_pco

    issue = current_pco().models.SyncIssue(
        **{
            "kind": "ambiguous",
            "resource_type": "Person",
            "pco_id": "90000001",
            "reason": "2 local people share the email ada@example.org",
            "candidates": [3, 4],
            **values,
        }
    )
    db.session.add(issue)
    db.session.commit()
    return issue
