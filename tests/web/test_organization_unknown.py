"""The admin page of an OAuth site whose organisation PCO has not named: it renders and says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_pco.sandbox import SandboxServer
from tests.conftest import make_app

from .conftest import ADMIN_URL, log_in, make_user

WARNING = "cannot tell which PCO organisation PCO_ACCESS_TOKEN belongs to"


@pytest.fixture
def app(database_url: str, sandbox: SandboxServer) -> Iterator[Flask]:
    """A site holding an OAuth token the sandbox never issued."""
    application = make_app(
        database_url,
        PCO_APP_ID="",
        PCO_SECRET="",
        PCO_ACCESS_TOKEN="token-pco-never-gave",
        PCO_API_URL=sandbox.url,
    )
    with application.app_context():
        yield application


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    return log_in(client, make_user("admin"))


def test_the_page_renders_and_says_in_one_line_why_no_run_can_start(admin: FlaskClient) -> None:
    page = admin.get(ADMIN_URL)
    assert page.status_code == 200
    assert WARNING in page.text and "HTTP 401" in page.text
    assert "token-pco-never-gave" not in page.text


def test_the_progress_poll_shows_no_run_rather_than_failing(admin: FlaskClient) -> None:
    poll = admin.get(f"{ADMIN_URL}progress", headers={"HX-Request": "true"})
    assert poll.status_code == 200
