"""Where the eye and keyboard go: focus after an action, notices in view, History on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from flask_pco.sandbox import SandboxServer

from .conftest import LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 700}


def in_viewport(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """s => { const r = document.querySelector(s).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
            selector,
        )
    )


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def test_starting_a_sync_on_a_phone_brings_the_progress_card_into_view(
    phone: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    sandbox.control.set_faults(latency_ms=800)
    log_in(phone, site)
    phone.get_by_role("button", name="Full Sync").click()
    expect(phone.locator("#pco-progress-title")).to_be_focused()
    assert in_viewport(phone, "#pco-progress-title")
    sandbox.control.set_faults(latency_ms=0)


def test_a_notice_is_in_view_where_the_admin_acted(phone: Any, site: LiveServer) -> None:
    log_in(phone, site)
    save = phone.get_by_role("button", name="Save schedule")
    save.scroll_into_view_if_needed()
    assert not in_viewport(phone, ".pco-title")  # the top of the page is out of view
    save.click()
    notice = phone.locator("#pco-notice .pco-notice")
    expect(notice).to_contain_text("Nightly sync is off.")
    assert in_viewport(phone, "#pco-notice .pco-notice")
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)


def test_history_on_a_phone_shows_every_column(phone: Any, site: LiveServer) -> None:
    log_in(phone, site)
    phone.get_by_role("button", name="People").first.click()
    row = phone.locator("#pco-history tbody tr").first
    expect(row.locator(".pco-badge")).to_have_text("Succeeded", timeout=60_000)
    cells = row.locator("td")
    assert cells.count() == 13
    width = phone.evaluate("window.innerWidth")
    for index in range(cells.count()):
        cell = cells.nth(index)
        if cell.inner_text().strip():
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    row.scroll_into_view_if_needed()
    screenshot(phone, "admin-phone-history")


def test_keyboard_focus_stays_in_the_section_after_resolving(page: Any, site: LiveServer) -> None:
    from tests.web.conftest import make_issue

    with site.app.app_context():
        make_issue(resource_type="Household", candidates=[])
    log_in(page, site)
    page.locator("#pco-issues").get_by_role("button", name="Mark resolved").first.click()
    expect(page.locator("#pco-issues-title")).to_be_focused()
