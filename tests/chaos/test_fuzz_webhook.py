"""Fuzz the webhook route with generated bodies and headers, signed and not, on SQLite and
PostgreSQL: only 2xx/4xx answers, and a refused body writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flask_pco.extension import current_pco
from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.web.webhook import sign_body
from tests.conftest import make_app
from tests.helpers import APPS_MADE

from .strategies import webhook_bodies

SECRET = "fuzz-webhook-secret"
URL = "/api/pco/webhook"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def church(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The example app with a webhook secret, against an empty sandbox: every event that gets
    as far as re-fetching its person learns at once that PCO has no such person."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'church.sqlite'}"
    else:  # PostgreSQL refuses what SQLite stores: NUL characters, over-long values
        database_url = str(request.getfixturevalue("postgres_url"))
    sandbox = create_sandbox_app(rate_limit=100_000, rate_period=1)
    with SandboxServer(sandbox) as server:
        app = make_app(
            database_url,
            PCO_WEBHOOK_SECRET=SECRET,
            PCO_API_URL=server.url,
            PCO_APP_ID="sandbox",
            PCO_SECRET="sandbox-secret",
            PCO_RATE_LIMIT=100_000,
            PCO_RATE_PERIOD=1,
        )
        APPS_MADE.remove(app)  # shared by the module: closed here, not after its first test
        with app.app_context():
            yield app
            current_pco().db.session.remove()
            current_pco().db.engine.dispose()  # before the session drops the test database


def row_counts() -> tuple[int, ...]:
    state = current_pco()
    from example_app.models import Person

    tables = (Person, state.models.WebhookDelivery, state.models.SyncIssue, state.models.SyncRun)
    state.db.session.rollback()
    counts = tuple(state.db.session.scalar(select(func.count()).select_from(t)) for t in tables)
    state.db.session.rollback()  # hand the connection back to the pool
    return counts


@FUZZ
@given(body=webhook_bodies, signature=st.sampled_from(["none", "wrong", "garbage"]))
def test_an_unsigned_or_forged_body_gets_401_and_writes_nothing(church, body, signature) -> None:
    headers = {
        "none": {},
        "wrong": {"X-PCO-Webhooks-Authenticity": sign_body(body, "not-the-secret")},
        "garbage": {"X-PCO-Webhooks-Authenticity": "zz" + body[:10].hex()},
    }[signature]
    before = row_counts()

    response = church.test_client().post(URL, data=body, headers=headers)

    assert response.status_code == 401
    assert row_counts() == before


@FUZZ
@given(body=webhook_bodies)
def test_a_signed_body_is_stored_or_refused_with_a_4xx_never_an_error(church, body) -> None:
    headers = {"X-PCO-Webhooks-Authenticity": sign_body(body, SECRET)}
    before = row_counts()

    response = church.test_client().post(URL, data=body, headers=headers)

    assert response.status_code in (200, 400), response.text
    event(f"HTTP {response.status_code}")
    after = row_counts()
    if response.status_code != 200:
        assert after == before
    assert after[0] == before[0]  # PCO has nobody: no event can create a person


#: Header values as they reach Flask: any Latin-1 text, the way werkzeug decodes header bytes.
header_values = st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"), max_size=80)


@FUZZ
@given(signature=header_values, event_time=header_values)
def test_any_header_bytes_get_401_never_an_error(church, signature, event_time) -> None:
    body = b'{"data": []}'
    before = row_counts()

    response = church.test_client().post(
        URL,
        data=body,
        headers={"X-PCO-Webhooks-Authenticity": signature, "X-PCO-Webhooks-Event-Time": event_time},
    )

    assert response.status_code == 401
    assert row_counts() == before


@FUZZ
@given(event_time=header_values, body=webhook_bodies)
def test_a_signed_body_with_any_event_time_header_never_errors(church, event_time, body) -> None:
    headers = {
        "X-PCO-Webhooks-Authenticity": sign_body(body, SECRET),
        "X-PCO-Webhooks-Event-Time": event_time,
    }

    response = church.test_client().post(URL, data=body, headers=headers)

    assert response.status_code in (200, 400), response.text
