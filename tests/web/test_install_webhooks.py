"""The Webhooks card's Install webhooks button: what `flask pco webhooks install` does."""

from __future__ import annotations

from flask.testing import FlaskClient

from flask_pco.sandbox import SandboxServer
from flask_pco.sync.webhooks.subscriptions import WANTED_EVENTS
from tests.conftest import make_app
from tests.helpers import sandbox_settings

from .conftest import ADMIN_URL, log_in, make_user, post

TOTAL = len(WANTED_EVENTS)


def test_install_webhooks_creates_them_and_says_so(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    response = post(admin_client, f"{ADMIN_URL}webhooks/install", htmx=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Webhooks installed: {TOTAL} created." in html
    assert 'id="pco-webhook"' in html and f"{TOTAL} ({TOTAL} active)" in html
    remote = sandbox.control.state()["records"]["Subscription"]
    assert {s["url"] for s in remote} == {"https://church.example.org/api/pco/webhook"}


def test_install_webhooks_twice_installs_nothing_new(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    post(admin_client, f"{ADMIN_URL}webhooks/install")

    again = post(admin_client, f"{ADMIN_URL}webhooks/install")

    assert again.status_code == 302  # without JavaScript: a notice on the page it goes back to
    page = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f"Webhooks installed: {TOTAL} already installed." in page
    assert len(sandbox.control.state()["records"]["Subscription"]) == TOTAL


def test_install_webhooks_without_a_public_url_says_what_to_set(
    database_url: str, sandbox: SandboxServer
) -> None:
    sandbox.control.reset(people=0)
    app = make_app(database_url, **sandbox_settings(sandbox.url))
    with app.app_context():
        client = log_in(app.test_client(), make_user("admin"))

        response = post(client, f"{ADMIN_URL}webhooks/install", htmx=True)

    html = response.get_data(as_text=True)
    assert "Webhooks not installed: PCO_PUBLIC_URL is not set" in html
    assert sandbox.control.state()["records"].get("Subscription", []) == []
