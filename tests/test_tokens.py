"""The stored OAuth connection: encrypted at rest, and refreshed once however many workers race.

"Workers" are apps of their own (each its own state, client and token) on one database, run in
threads against the live sandbox, whose refresh is slowed so that every worker meets PCO's 401
before the first refresh has come back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask

from flask_pco.client.oauth import authorize_url, exchange_code
from flask_pco.config import DEFAULTS, load_config
from flask_pco.exceptions import ConfigError
from flask_pco.sandbox import SandboxServer
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.state import current_pco
from tests.conftest import make_app
from tests.helpers import APPS_MADE

CLIENT = {"client_id": "sandbox-oauth-client", "client_secret": "sandbox-oauth-secret"}
REDIRECT = "https://church.example.org/admin/pco-sync/oauth/callback"
WORKERS = 4


def oauth_settings(sandbox_url: str, key: str, redis_url: str = "") -> dict[str, Any]:
    return {
        "PCO_APP_ID": "",
        "PCO_SECRET": "",
        "PCO_API_URL": sandbox_url,
        "PCO_OAUTH_CLIENT_ID": CLIENT["client_id"],
        "PCO_OAUTH_CLIENT_SECRET": CLIENT["client_secret"],
        "PCO_TOKEN_KEY": key,
        "PCO_REDIS_URL": redis_url,
    }


def grant(sandbox: SandboxServer) -> dict[str, Any]:
    """A fresh token pair, as the connect flow gets it (the sandbox approves at once, for
    the organisation ``set_oauth`` named)."""
    url = authorize_url(sandbox.url, CLIENT["client_id"], REDIRECT, "people", "s")
    back = requests.get(url, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    return exchange_code(sandbox.url, code=code, redirect_uri=REDIRECT, **CLIENT)


@pytest.fixture(params=["redis", "database"])
def workers(
    request: pytest.FixtureRequest, database_url: str, sandbox_server: SandboxServer
) -> Iterator[list[Flask]]:
    """Apps sharing one database (and Redis, or not), connected to the sandbox."""
    from example_app import create_app

    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    settings = oauth_settings(sandbox_server.url, Fernet.generate_key().decode(), redis_url)
    first = make_app(database_url, **settings)
    others = [first.config.copy() for _ in range(WORKERS - 1)]
    apps = [first, *(create_app(dict(config)) for config in others)]
    APPS_MADE.extend(apps[1:])
    sandbox_server.control.set_oauth(auto_approve=True)
    with first.app_context():
        current_pco().token_store().connect(grant(sandbox_server), ORGANIZATION_ID, "Grace")
    yield apps
    sandbox_server.control.set_oauth(auto_approve=True, refresh_delay=0.0)


def fetch_in_threads(apps: list[Flask]) -> list[Any]:
    """Every app asks PCO for its organisation at the same moment, each in its own thread."""
    start, results = threading.Barrier(len(apps)), [None] * len(apps)

    def work(index: int, app: Flask) -> None:
        with app.app_context():
            client = current_pco().client()
            start.wait()
            try:
                results[index] = client.get("/people/v2").data[0].id
            except Exception as error:  # reported by the assertion, not lost in a thread
                results[index] = error

    threads = [threading.Thread(target=work, args=(i, a)) for i, a in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_workers_racing_past_an_expired_token_make_one_refresh(
    workers: list[Flask], sandbox_server: SandboxServer
) -> None:
    with workers[0].app_context():
        current_pco().client()  # every worker holds the same token before it expires
    sandbox_server.control.expire_access_tokens()
    sandbox_server.control.set_oauth(auto_approve=True, refresh_delay=0.5)
    before = sandbox_server.control.oauth_counts()["refreshes"]
    results = fetch_in_threads(workers)
    assert results == [ORGANIZATION_ID] * WORKERS
    assert sandbox_server.control.oauth_counts()["refreshes"] == before + 1


def test_every_worker_ends_up_on_the_one_stored_token(
    workers: list[Flask], sandbox_server: SandboxServer
) -> None:
    sandbox_server.control.expire_access_tokens()
    fetch_in_threads(workers)
    with workers[0].app_context():
        stored = current_pco().token_store().token() or {}
    for app in workers:
        with app.app_context():
            assert current_pco().client().auth.access_token == stored["access_token"]  # type: ignore[attr-defined]


def test_the_token_does_not_decrypt_with_another_key(
    workers: list[Flask], sandbox_server: SandboxServer
) -> None:
    from example_app import create_app

    config = dict(workers[0].config, PCO_TOKEN_KEY=Fernet.generate_key().decode())
    other = create_app(config)
    APPS_MADE.append(other)
    with other.app_context(), pytest.raises(ConfigError, match="reconnect Planning Center"):
        current_pco().token_store().token()


def test_an_oauth_app_without_a_token_key_fails_at_start_up() -> None:
    settings = oauth_settings("http://127.0.0.1:9", key="")
    with pytest.raises(ConfigError, match="PCO_TOKEN_KEY is not set"):
        load_config({**DEFAULTS, **settings})


def test_a_token_key_that_is_not_a_fernet_key_fails_at_start_up() -> None:
    settings = oauth_settings("http://127.0.0.1:9", key="not-a-key")
    with pytest.raises(ConfigError, match="must be a Fernet key"):
        load_config({**DEFAULTS, **settings})


@pytest.fixture(scope="module")
def two_churches() -> Iterator[SandboxServer]:
    from flask_pco.sandbox import create_sandbox_app

    app = create_sandbox_app(people=3, organizations=[("300002", "Hope Chapel")])
    with SandboxServer(app) as server:
        yield server


def test_sites_connected_to_two_churches_of_one_sandbox_keep_them_apart(
    two_churches: SandboxServer, tmp_path: Any
) -> None:
    keys = []
    for church in (ORGANIZATION_ID, "300002"):
        two_churches.control.set_oauth(auto_approve=True, organization=church)
        settings = oauth_settings(two_churches.url, Fernet.generate_key().decode())
        site = make_app(f"sqlite:///{tmp_path / church}.sqlite", **settings)
        with site.app_context():
            token = grant(two_churches)
            state = current_pco()
            state.token_store().connect(token, church, "church")
            assert state.client().get("/people/v2").data[0].id == church
            keys.append(state.organization_key())
    assert keys == [f"org-{ORGANIZATION_ID}", "org-300002"]
