"""The change journal in a real browser: a run's changes from its History row, a person's
history from a conflict, and the Changes view's filter (htmx, with the URL kept)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer

from .conftest import ARTIFACTS, LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser


def renamed_on_both_sides(site: LiveServer, sandbox: SandboxServer) -> tuple[int, str]:
    """Pull, rename a person here and in PCO, pull again: a conflict, and two journaled runs.
    (The person's id, and their first name.)"""
    with site.app.app_context():
        from example_app.models import Person, db

        start_sync("pull", "people", mode="inline")
        person = db.session.scalars(select(Person).order_by(Person.id)).first()
        person.last_name = "Local-Name"
        db.session.commit()
        sandbox.control.edit_person(person.pco_id, last_name="Pco-Name")
        start_sync("pull", "people", mode="inline")
        return person.id, person.first_name


def test_a_runs_changes_open_from_its_history_row(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    renamed_on_both_sides(site, sandbox)
    log_in(page, site)

    page.locator("#pco-history tbody tr").first.get_by_role("link").first.click()

    expect(page).to_have_url(re.compile(r"/changes\?run=\d+$"))
    expect(page.get_by_role("link", name="Changes")).to_have_attribute("aria-current", "page")
    table = page.locator("#pco-changes-table")
    expect(table).to_contain_text('last_name "Local-Name" → "Pco-Name" (local)')
    expect(page.locator("#pco-changes-title")).to_have_text("1 change")
    screenshot(page, "changes-of-a-run")


def test_a_persons_history_opens_from_a_conflict(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    person_id, first_name = renamed_on_both_sides(site, sandbox)
    log_in(page, site)

    page.locator("#pco-issues table").get_by_role("link", name=re.compile(first_name)).click()

    expect(page).to_have_url(re.compile(rf"/history/person/{person_id}$"))
    expect(page.locator("h1")).to_contain_text(f"History of {first_name} Pco-Name")
    rows = page.locator("#pco-changes-table tbody tr")
    expect(rows).to_have_count(2)  # the rename, then (older) the create
    expect(rows.first).to_contain_text('"Local-Name" → "Pco-Name"')
    expect(rows.last).to_contain_text("created (local)")
    screenshot(page, "person-history")
    # The README's picture (docs/history.png is a copy of it): the page down to the table's end.
    height = page.locator("#pco-changes").bounding_box()["y"] + 260
    page.screenshot(
        path=str(ARTIFACTS / "readme-history.png"),
        clip={"x": 0, "y": 0, "width": 1280, "height": height},
    )


def test_the_filter_narrows_the_table_and_keeps_the_url(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    _, first_name = renamed_on_both_sides(site, sandbox)
    log_in(page, site, "/admin/pco-sync/changes")

    page.get_by_label("Person (name, email or id)").fill(f"{first_name} pco-name")
    page.get_by_label("Action").select_option("update")
    page.get_by_role("button", name="Show").click()

    expect(page.locator("#pco-changes-title")).to_have_text("1 change")
    expect(page).to_have_url(re.compile(r"action=update"))
    page.reload()  # the pushed URL brings the same filter back
    expect(page.get_by_label("Action")).to_have_value("update")
    expect(page.locator("#pco-changes-table tbody tr")).to_have_count(1)
