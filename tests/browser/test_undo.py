"""Undo in a real browser: a push's row → Undo → the preview of what the undo changes (with the
person the push created in PCO offered for deletion) → Run it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer

from .conftest import ARTIFACTS, LiveServer, log_in, screenshot

pytestmark = pytest.mark.browser


def renamed_here_and_pushed(site: LiveServer) -> int:
    """Pull, rename two people here, add a newcomer, push: the push's run id."""
    with site.app.app_context():
        from example_app.models import Person, db
        from tests.sync.push.conftest import add_person

        start_sync("pull", "people", mode="inline")
        for person, name in zip(
            db.session.scalars(select(Person).order_by(Person.id).limit(2)),
            ("Okafor-Lind", "Benedetti"),
            strict=True,
        ):
            person.last_name = name
        db.session.commit()
        add_person(db, "Dana", "Newcomer")
        return int(start_sync("push", "people", mode="inline").id)


def test_undo_of_a_push_previews_then_runs(
    page: Any, site: LiveServer, sandbox: SandboxServer
) -> None:
    push_id = renamed_here_and_pushed(site)
    log_in(page, site)

    page.locator(f"#pco-undo-{push_id}").click()

    expect(page.locator("h1")).to_have_text(f"Preview: undo run {push_id}")
    rows = page.locator("#pco-plan tbody tr")
    expect(rows).to_have_count(2, timeout=60_000)
    expect(rows.first.locator("td").nth(1)).to_contain_text("→")
    expect(rows.first.locator("td").nth(2)).to_have_text("PCO")
    created = page.locator("#pco-undo-created")
    expect(created).to_contain_text("Dana Newcomer: created (PCO)")
    expect(created).to_contain_text("kept by this undo")
    # The README's picture (docs/undo.png is a copy of it).
    page.screenshot(
        path=str(ARTIFACTS / "readme-undo.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 900},
    )

    page.locator("#pco-delete-created").check()
    page.get_by_role("button", name="Preview again, deleting it").click()
    expect(page.locator("#pco-undo-created")).to_contain_text("this undo deletes it there")
    expect(page.locator("#pco-plan tbody tr")).to_have_count(4, timeout=60_000)
    page.get_by_role("button", name="Run it").click()

    outcome = page.locator("#pco-outcome")
    expect(outcome).to_contain_text("The run made exactly the 4 planned changes", timeout=60_000)
    expect(outcome.locator(".pco-badge")).to_have_text("Succeeded")
    screenshot(page, "undo-run-it")
    names = {p["last_name"] for p in sandbox.control.state()["records"]["Person"]}
    assert not names & {"Okafor-Lind", "Benedetti", "Newcomer"}
