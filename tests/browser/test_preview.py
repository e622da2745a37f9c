"""Preview → Run it in a real browser: the dry run's counts and planned changes a page at a
time, then the real run, which says how it differs when PCO changed in between."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from flask_pco.sandbox import SandboxServer

from .conftest import ARTIFACTS, LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser


def test_preview_then_run_it_says_what_pco_changed_in_between(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    log_in(page, site)
    page.get_by_label("Sync to preview").select_option(label="Pull: Full Sync")
    page.get_by_role("button", name="Preview", exact=True).click()

    preview = page.locator("#pco-preview")
    expect(preview.locator("[data-counter=created]")).not_to_have_text("0", timeout=60_000)
    rows = page.locator("#pco-plan tbody tr")
    expect(rows).to_have_count(50)  # a page of the plan; the rest behind Next
    expect(rows.first.locator("td").nth(1)).to_have_text("created")
    expect(rows.first.locator("td").nth(2)).to_have_text("local")
    expect(page.locator("#pco-plan-count")).to_contain_text(
        re.compile(r"planned changes, 1 to 50 shown")
    )
    screenshot(page, "preview-plan")
    # The README's picture (docs/preview.png is a copy of it): the plan's first screenful.
    page.screenshot(
        path=str(ARTIFACTS / "readme-preview.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 900},
    )
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#pco-plan-count")).to_contain_text("51 to")

    sandbox.control.add_person(first_name="Late", last_name="Comer")  # after the preview
    page.get_by_role("button", name="Run it").click()

    outcome = page.locator("#pco-outcome")
    expect(outcome).to_contain_text("Planning Center changed after the preview", timeout=60_000)
    expect(page.locator("#pco-unplanned")).to_contain_text("Late Comer: created (local)")
    expect(page.locator("#pco-not-done")).to_have_count(0)
    expect(outcome.locator(".pco-badge")).to_have_text("Succeeded")
    screenshot(page, "preview-run-it")
