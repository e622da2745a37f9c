"""Connect Planning Center with OAuth: connect, callback, refresh, reconnect, disconnect, all
against the live sandbox's OAuth server over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from flask_pco.exceptions import AuthenticationError
from flask_pco.sandbox import SandboxServer
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.state import current_pco
from flask_pco.tokens import SETTING_KEY
from tests.conftest import make_app

from .conftest import ADMIN_URL, log_in, make_user, post

OAUTH_APP = {
    "PCO_APP_ID": "",
    "PCO_SECRET": "",
    "PCO_OAUTH_CLIENT_ID": "sandbox-oauth-client",
    "PCO_OAUTH_CLIENT_SECRET": "sandbox-oauth-secret",
}


@pytest.fixture
def app(database_url: str, sandbox: SandboxServer) -> Iterator[Flask]:
    """The example site with an OAuth app and no Personal Access Token."""
    sandbox.control.reset(people=6, seed=7)
    sandbox.control.set_oauth(auto_approve=True, access_seconds=7200)
    application = make_app(
        database_url,
        PCO_API_URL=sandbox.url,
        PCO_TOKEN_KEY=Fernet.generate_key().decode(),
        **OAUTH_APP,
    )
    with application.app_context():
        yield application


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    return log_in(client, make_user("admin"))


def connect(admin: FlaskClient) -> Any:
    """Press Connect, let the sandbox approve, follow PCO's redirect back to the callback."""
    to_pco = post(admin, f"{ADMIN_URL}oauth/connect")
    assert to_pco.status_code == 302
    back = requests.get(to_pco.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    return admin.get(f"{callback.path}?{callback.query}", follow_redirects=True)


def stored_token() -> dict[str, Any]:
    return current_pco().token_store().token() or {}


def test_connect_asks_pco_for_the_configured_scopes_with_a_state(admin: FlaskClient) -> None:
    to_pco = post(admin, f"{ADMIN_URL}oauth/connect")
    location = to_pco.headers["Location"]
    assert location.startswith(current_pco().config.api_url + "/oauth/authorize?")
    assert "scope=people+groups+check_ins+calendar" in location
    assert "state=" in location and "response_type=code" in location


def test_the_callback_stores_the_grant_and_shows_the_organisation(admin: FlaskClient) -> None:
    page = connect(admin)
    assert "Connected to Grace Church Sandbox." in page.text
    assert f"organisation {ORGANIZATION_ID}" in page.text
    assert current_pco().organization_key() == f"org-{ORGANIZATION_ID}"
    assert current_pco().client().get("/people/v2/people").data


def test_tokens_are_stored_encrypted(admin: FlaskClient) -> None:
    connect(admin)
    state = current_pco()
    row = state.db.session.get(state.models.Setting, SETTING_KEY)
    token = stored_token()
    assert token["access_token"] and token["refresh_token"]
    assert token["access_token"] not in str(row.value)
    assert token["refresh_token"] not in str(row.value)


def test_a_callback_with_a_state_not_started_here_is_refused(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    to_pco = post(admin, f"{ADMIN_URL}oauth/connect")
    back = requests.get(to_pco.headers["Location"], allow_redirects=False, timeout=10)
    forged = back.headers["Location"].replace("state=", "state=forged")
    page = admin.get(urlsplit(forged).path + "?" + urlsplit(forged).query, follow_redirects=True)
    assert "did not match a connect started here" in page.text
    assert current_pco().oauth_connection() is None


def test_an_access_token_pco_expired_is_refreshed_on_the_401(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    connect(admin)
    before = stored_token()
    current_pco().client().get("/people/v2")
    sandbox.control.expire_access_tokens()
    refreshes = sandbox.control.oauth_counts()["refreshes"]
    assert current_pco().client().get("/people/v2/people").data
    assert sandbox.control.oauth_counts()["refreshes"] == refreshes + 1
    after = stored_token()
    assert after["refresh_token"] != before["refresh_token"]  # rotated, and kept
    assert after["access_token"] != before["access_token"]


def test_a_token_about_to_expire_is_refreshed_before_it_is_used(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    sandbox.control.set_oauth(auto_approve=True, access_seconds=30)  # inside the 60 s leeway
    connect(admin)
    sandbox.control.clear_requests()
    refreshes = sandbox.control.oauth_counts()["refreshes"]
    current_pco().client().get("/people/v2/people")
    assert sandbox.control.oauth_counts()["refreshes"] == refreshes + 1
    assert [r["status"] for r in sandbox.control.requests()] == [200]  # no 401 first


def test_disconnect_revokes_the_grant_at_pco_and_deletes_it(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    connect(admin)
    token = stored_token()
    page = post(admin, f"{ADMIN_URL}oauth/disconnect")
    assert "tokens are revoked and deleted" in admin.get(page.headers["Location"]).text
    assert current_pco().oauth_connection() is None
    answer = requests.get(
        f"{sandbox.url}/people/v2",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 401 and "CAPUCHIN" in answer.text
    refresh = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
              "client_id": OAUTH_APP["PCO_OAUTH_CLIENT_ID"],
              "client_secret": OAUTH_APP["PCO_OAUTH_CLIENT_SECRET"]},
        timeout=10,
    )  # fmt: skip
    assert refresh.json()["error"] == "invalid_grant"


def test_after_disconnect_the_page_offers_to_connect_again(admin: FlaskClient) -> None:
    connect(admin)
    post(admin, f"{ADMIN_URL}oauth/disconnect")
    page = admin.get(ADMIN_URL).text
    assert "Connect Planning Center" in page and "Not connected with OAuth" in page


def test_a_revoked_grant_fails_the_run_and_asks_to_reconnect(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    from flask_pco.jobs.queue import start_sync

    connect(admin)
    sandbox.control.revoke_all_grants()  # the church removed the app in PCO
    with pytest.raises(AuthenticationError, match="reconnect Planning Center"):
        start_sync("pull", "people", mode="inline")
    state = current_pco()
    run = state.db.session.query(state.models.SyncRun).one()
    assert run.status == "failed"
    assert "reconnect Planning Center on the admin page" in run.error_message
    page = admin.get(ADMIN_URL).text
    assert "no longer accepts this site" in page and "Reconnect Planning Center" in page


def test_reconnecting_clears_the_problem(admin: FlaskClient, sandbox: SandboxServer) -> None:
    connect(admin)
    sandbox.control.revoke_all_grants()
    with pytest.raises(AuthenticationError, match="reconnect Planning Center"):
        current_pco().client().get("/people/v2/people")
    assert current_pco().oauth_connection().problem  # type: ignore[union-attr]
    connect(admin)
    assert current_pco().oauth_connection().problem == ""  # type: ignore[union-attr]
    assert current_pco().client().get("/people/v2/people").data


def test_flask_pco_config_names_the_connected_organisation(app: Flask, admin: FlaskClient) -> None:
    runner = app.test_cli_runner()
    assert "not connected" in runner.invoke(args=["pco", "config"]).output
    connect(admin)
    output = runner.invoke(args=["pco", "config"]).output
    assert f"OAuth connection Grace Church Sandbox (organisation {ORGANIZATION_ID})" in output
    assert stored_token()["access_token"] not in output


def test_disconnect_deletes_the_grant_even_when_pco_refuses_the_revocation(
    admin: FlaskClient,
) -> None:
    connect(admin)
    state = current_pco()
    state.config = dataclasses.replace(state.config, oauth_client_secret="no-longer-valid")
    answer = post(admin, f"{ADMIN_URL}oauth/disconnect")
    page = admin.get(answer.headers["Location"]).text
    assert "Planning Center could not be told" in page and "invalid_client" in page
    assert state.oauth_connection() is None


def test_a_refused_grant_makes_health_failing_until_reconnected(
    admin: FlaskClient, sandbox: SandboxServer
) -> None:
    from flask_pco.jobs.health import health

    connect(admin)
    sandbox.control.revoke_all_grants()
    with pytest.raises(AuthenticationError):
        current_pco().client().get("/people/v2/people")
    report = health(current_pco())
    assert report.state == "failing"
    assert any("reconnect it on the admin page" in reason for reason in report.reasons)
    assert "reconnect it" in " ".join(report.alerts)
    connect(admin)
    assert not any("reconnect" in reason for reason in health(current_pco()).reasons)
