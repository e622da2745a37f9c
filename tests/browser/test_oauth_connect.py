"""Connect Planning Center in a real browser: PCO's consent page, back to the admin page showing
the organisation, a sync on the connection, then Disconnect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from flask_pco.sandbox import SandboxServer
from flask_pco.sandbox.specs import ORGANIZATION_ID

from .conftest import LiveServer, log_in, screenshot, serve_site

pytestmark = pytest.mark.browser


@pytest.fixture
def oauth_site(tmp_path: Path, sandbox: SandboxServer) -> Iterator[LiveServer]:
    """The example site with an OAuth app and no Personal Access Token."""
    sandbox.control.set_oauth(auto_approve=False)  # the admin clicks Allow on PCO's page
    config = {
        "PCO_APP_ID": "",
        "PCO_SECRET": "",
        "PCO_OAUTH_CLIENT_ID": "sandbox-oauth-client",
        "PCO_OAUTH_CLIENT_SECRET": "sandbox-oauth-secret",
        "PCO_TOKEN_KEY": Fernet.generate_key().decode(),
    }
    with serve_site(tmp_path, sandbox, **config) as server:
        yield server


def connect(page: Any, site: LiveServer) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Connect Planning Center").click()
    page.get_by_role("button", name="Allow").click()  # on the sandbox's consent page
    page.wait_for_url(f"{site.url}/admin/pco-sync/")


def test_connecting_shows_the_organisation(
    page: Any, oauth_site: LiveServer, sandbox: SandboxServer
) -> None:
    connect(page, oauth_site)
    expect(page.locator(".pco-notices")).to_contain_text("Connected to Grace Church Sandbox.")
    expect(page.locator("#pco-oauth-organization")).to_contain_text(
        f"Grace Church Sandbox (organisation {ORGANIZATION_ID})"
    )
    screenshot(page, "admin-oauth-connected")


def test_a_sync_runs_on_the_connection(
    page: Any, oauth_site: LiveServer, sandbox: SandboxServer
) -> None:
    connect(page, oauth_site)
    page.get_by_role("button", name="Full Sync").click()
    history_row = page.locator("#pco-history tbody tr").first
    expect(history_row.locator(".pco-badge")).to_have_text("Succeeded", timeout=120_000)


def test_disconnecting_offers_to_connect_again(
    page: Any, oauth_site: LiveServer, sandbox: SandboxServer
) -> None:
    connect(page, oauth_site)
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator(".pco-notices")).to_contain_text("tokens are revoked and deleted")
    expect(page.get_by_role("button", name="Connect Planning Center")).to_be_visible()
    expect(page.locator("#pco-oauth-organization")).to_have_count(0)
    assert sandbox.control.oauth_counts()["live_access_tokens"] == 0
