"""The admin page and PCO's webhook subscriptions in a real browser: the Install webhooks button,
and the warning shown while subscriptions do not work, until the hourly housekeeping mends them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from flask_pco.extension import current_pco
from flask_pco.jobs.webhooks import webhook_housekeeping
from flask_pco.sandbox import SandboxServer
from flask_pco.sync.webhooks.subscriptions import WANTED_EVENTS

from .conftest import LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser

TOTAL = len(WANTED_EVENTS)
WARNING = f"webhooks inactive: {TOTAL} of {TOTAL} webhook subscriptions do not work in PCO"


def install(page: Any) -> None:
    page.get_by_role("button", name="Install webhooks").click()
    expect(page.locator("#pco-notice")).to_contain_text(f"Webhooks installed: {TOTAL} created")


def deactivate_in_pco(sandbox: SandboxServer) -> None:
    for subscription in sandbox.control.state()["records"]["Subscription"]:
        sandbox.control.edit_subscription(subscription["id"], active=False)


def housekeeping(site: LiveServer) -> None:
    """The hourly job, as the scheduler runs it: nobody types a command."""
    with site.app.app_context():
        webhook_housekeeping(current_pco())


def test_install_webhooks_button_installs_them(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    log_in(page, site)

    install(page)

    expect(page.locator("#pco-webhook")).to_contain_text(f"{TOTAL} ({TOTAL} active)")
    remote = sandbox.control.state()["records"]["Subscription"]
    assert len(remote) == TOTAL and all(s["active"] for s in remote)


def test_the_page_warns_until_housekeeping_mends_the_subscriptions(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    log_in(page, site)
    install(page)
    deactivate_in_pco(sandbox)
    sandbox.control.set_faults(error_rate=1.0, error_methods=("PATCH", "POST"))
    housekeeping(site)  # PCO refuses this hour's repairs

    page.reload()
    health = page.locator("#pco-health")
    expect(health).to_contain_text(WARNING)
    expect(health.locator(".pco-badge")).to_have_text("Degraded")
    expect(page.locator("#pco-webhook")).to_contain_text(f"{TOTAL} (0 active)")
    screenshot(page, "admin-webhooks-inactive")

    sandbox.control.set_faults()
    housekeeping(site)  # the next hour's run
    page.reload()

    expect(health).not_to_contain_text("webhooks inactive")
    expect(page.locator("#pco-webhook")).to_contain_text(f"{TOTAL} ({TOTAL} active)")


def test_install_webhooks_button_clears_the_warning(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    log_in(page, site)
    install(page)
    deactivate_in_pco(sandbox)
    sandbox.control.set_faults(error_rate=1.0, error_methods=("PATCH", "POST"))
    housekeeping(site)
    sandbox.control.set_faults()
    page.reload()
    expect(page.locator("#pco-health")).to_contain_text(WARNING)

    page.get_by_role("button", name="Install webhooks").click()

    expect(page.locator("#pco-notice")).to_contain_text(f"{TOTAL} reactivated")
    expect(page.locator("#pco-health")).not_to_contain_text("webhooks inactive")
    expect(page.locator("#pco-webhook")).to_contain_text(f"{TOTAL} ({TOTAL} active)")
