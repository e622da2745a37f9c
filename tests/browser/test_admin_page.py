"""The admin page in a real browser: log in, sync, watch the progress, read PCO's data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from flask_pco.sandbox import SandboxServer

from .conftest import ARTIFACTS, LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser


def counter(page: Any, name: str) -> int:
    return int(page.locator(f"#pco-progress [data-counter={name}]").inner_text())


#: What a finished run changes besides the progress card; polls during the run leave them alone.
SECTIONS_REFRESHED_AT_THE_END = ["pco-actions", "pco-history", "pco-issues"]


def mark_sections(page: Any) -> None:
    """Tag the sections' current elements, so a later look tells whether htmx replaced them."""
    page.evaluate(
        "ids => ids.forEach(id => { document.getElementById(id).dataset.seen = 'yes'; })",
        SECTIONS_REFRESHED_AT_THE_END,
    )


def marked_sections(page: Any) -> list[str]:
    return list(
        page.evaluate(
            "ids => ids.filter(id => document.getElementById(id).dataset.seen === 'yes')",
            SECTIONS_REFRESHED_AT_THE_END,
        )
    )


def test_full_sync_shows_live_counts_then_lands_in_history(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    sandbox.control.set_faults(latency_ms=1500)  # a sync long enough to watch a few polls
    log_in(page, site)
    screenshot(page, "admin-before-sync")
    page.get_by_role("button", name="Full Sync").click()

    progress = page.locator("#pco-progress")
    expect(progress.locator(".pco-badge")).to_have_text(re.compile("Queued|Running"))
    expect(page.get_by_role("button", name="People").first).to_be_disabled()
    mark_sections(page)
    # The counters move while the run is still running: the 3 s polling swapped them in (the
    # people step's, with its bar: the campuses step before it counts without one).
    page.wait_for_function(
        """() => {
            const p = document.querySelector('#pco-progress');
            const created = p.querySelector('[data-counter=created]');
            return p.getAttribute('hx-trigger') === 'every 3s' && created && Number(created.textContent) > 0 && p.querySelector('progress');
        }""",
        timeout=60_000,
    )
    assert marked_sections(page) == SECTIONS_REFRESHED_AT_THE_END  # polls left them alone
    expect(progress.locator("progress")).to_be_visible()  # the step's records, of how many
    expect(progress.locator("[data-progress]")).to_contain_text(re.compile(r"\d+ of \d+ records"))
    screenshot(page, "admin-sync-running")
    # The README's picture (docs/admin.png is a copy of it): the page mid-sync, first screenful.
    page.screenshot(
        path=str(ARTIFACTS / "readme-admin.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 1000},
    )
    sandbox.control.set_faults(latency_ms=0)

    history_row = page.locator("#pco-history tbody tr").first
    expect(history_row.locator(".pco-badge")).to_have_text("Succeeded", timeout=120_000)
    expect(progress).to_have_attribute("hx-trigger", "every 15s")  # idle: looks for new runs
    expect(progress).to_contain_text("No sync is running")
    expect(page.get_by_role("button", name="People").first).to_be_enabled()
    assert int(history_row.locator("td").nth(6).inner_text()) > 0
    assert marked_sections(page) == []  # the last poll swapped each of them in once
    screenshot(page, "admin-after-sync")


def test_full_push_asks_before_writing_to_pco(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    log_in(page, site)
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Full Push").click()
    assert "to Planning Center?" in asked[0]
    page.reload()
    expect(page.locator("#pco-history")).not_to_contain_text("push")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Full Push").click()
    expect(page.locator("#pco-progress .pco-badge")).to_have_text(
        re.compile("Queued|Running|Succeeded")
    )
    expect(page.locator("#pco-history")).to_contain_text("push", timeout=20_000)


def test_a_failing_sync_shows_its_error(page: Any, broken_site: LiveServer) -> None:
    log_in(page, broken_site)
    page.get_by_role("button", name="Full Sync").click()
    history_row = page.locator("#pco-history tbody tr").first
    expect(history_row.locator(".pco-badge")).to_have_text("Failed", timeout=60_000)
    error = page.locator("#pco-history .pco-error-row").first
    expect(error).to_contain_text("Error:")
    expect(page.locator("#pco-progress")).to_contain_text("Error:")
    screenshot(page, "admin-sync-failed")


def test_test_connection_shows_the_organisation(page: Any, site: LiveServer) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#pco-connection")).to_contain_text("Connected to Grace Church Sandbox")
    expect(page.locator("#pco-connection")).to_contain_text("Rate budget")


def test_read_only_tabs_show_sandbox_data(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    state = sandbox.control.state()
    log_in(page, site)
    page.get_by_role("link", name="Check-ins", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-ins")
    rows = page.locator("#pco-readonly tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    codes = page.locator("#pco-readonly tbody tr td:nth-child(3)").all_inner_texts()
    assert all(len(code) == 4 for code in codes), codes
    screenshot(page, "readonly-checkins")
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.locator("#pco-readonly tbody tr").first).to_contain_text("Main Hall")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    assert state  # the sandbox answered its control API throughout


def test_the_page_fits_a_phone_screen(browser: Any, site: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, device_scale_factor=1)
    phone = context.new_page()
    log_in(phone, site)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(phone, "admin-phone")
    context.close()
    assert overflow <= 0


def test_reading_and_acting_work_without_javascript(browser: Any, site: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    log_in(plain, site)
    expect(plain.get_by_role("heading", name="History")).to_be_visible()
    plain.get_by_role("button", name="Save schedule").click()
    expect(plain.locator("#pco-notice")).to_contain_text("Nightly sync is off.")
    plain.get_by_role("link", name="Labels", exact=True).click()
    expect(plain.locator("#pco-readonly tbody tr").first).to_contain_text("Name Tag")
    context.close()


def test_cancel_stops_the_running_sync(page: Any, site: LiveServer, sandbox: SandboxServer) -> None:
    sandbox.control.set_faults(latency_ms=1500)
    log_in(page, site)
    page.get_by_role("button", name="Full Sync").click()
    page.get_by_role("button", name=re.compile("Cancel run")).click()
    expect(page.locator("#pco-notice")).to_contain_text("Cancel requested")
    sandbox.control.set_faults(latency_ms=0)
    history_row = page.locator("#pco-history tbody tr").first
    expect(history_row.locator(".pco-badge")).to_have_text("Cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Full Sync")).to_be_enabled()


def test_health_groups_failures_and_retries_them(page: Any, site: LiveServer) -> None:
    from tests.web.conftest import make_issue, make_run

    with site.app.app_context():
        run = make_run("succeeded", direction="pull", sync_type="people")
        for n in range(2):
            make_issue(kind="invalid", run_id=run.id, pco_id=str(800 + n), candidates=[],
                       reason=f"not written: last_name is {170 + n} characters long")  # fmt: skip
    log_in(page, site)

    health = page.locator("#pco-health")
    expect(health.locator(".pco-badge")).to_have_text("Degraded")
    health.locator("summary").first.click()  # opens the group
    expect(health).to_contain_text("PCO 801")
    ARTIFACTS.mkdir(exist_ok=True)
    health.screenshot(path=str(ARTIFACTS / "admin-health.png"))  # docs/health.png in README
    health.get_by_role("button", name="Retry these").click()

    expect(page.locator("#pco-notice")).to_contain_text("Retrying 2 records: started pull people")
    expect(page.locator("#pco-history")).to_contain_text("people", timeout=20_000)
