"""The Changes view and per-record history: filters, paging, escaping, links and who may read."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer

from .conftest import ADMIN_URL, make_issue
from .test_conflict_flow import conflicted_person

CHANGES = f"{ADMIN_URL}changes"


def last_run_id() -> int:
    SyncRun = current_pco().models.SyncRun
    query = select(SyncRun.id).where(SyncRun.parent_id.is_(None)).order_by(SyncRun.id.desc())
    return int(current_pco().db.session.scalar(query))


def change_cells(page: str) -> list[str]:
    """The Change column of the table, as the admin reads it."""
    cells = re.findall(r'<td data-label="Change">(.*?)</td>', page, re.S)
    return [html.unescape(cell) for cell in cells]


def get(client: FlaskClient, path: str, **args: str) -> str:
    response = client.get(path, query_string=args or None)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_runs_changes_read_as_the_cli_prints_them(
    app: Flask, admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    conflicted_person(sandbox)
    run_id = last_run_id()
    printed = app.test_cli_runner().invoke(args=["pco", "changes", str(run_id)]).output
    page = get(admin_client, CHANGES, run=str(run_id))
    assert change_cells(page) == printed.splitlines()[1:][::-1]  # the page: newest first
    assert f"run {run_id}" in page


def test_each_history_row_links_to_its_runs_changes(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    start_sync("pull", "people", mode="inline")
    page = get(admin_client, ADMIN_URL)
    assert f'href="{CHANGES}?run={last_run_id()}"' in page


def test_a_conflict_links_to_the_persons_history(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    person = conflicted_person(sandbox)
    page = get(admin_client, ADMIN_URL)
    link = f"{ADMIN_URL}history/person/{person.id}"
    assert f'href="{link}"' in page
    history = change_cells(get(admin_client, link))
    assert history[0].endswith('last_name "Local-Name" → "Pco-Name" (local)')
    assert history[-1].startswith(f"{person.first_name} Pco-Name: created (local)")


def test_a_held_match_links_its_candidates_history(admin_client: FlaskClient) -> None:
    make_issue(candidates=[3, 4])
    page = get(admin_client, ADMIN_URL)
    assert f'href="{ADMIN_URL}history/person/3"' in page
    assert f'href="{ADMIN_URL}history/person/4"' in page


def test_filters_narrow_to_a_side_and_an_action(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    conflicted_person(sandbox)
    updates = change_cells(get(admin_client, CHANGES, side="local", action="update"))
    assert len(updates) == 1 and "→" in updates[0]
    assert "No changes journaled that match" in get(admin_client, CHANGES, side="pco")


def test_a_person_search_by_name_keeps_to_that_person(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    person = conflicted_person(sandbox)
    cells = change_cells(get(admin_client, CHANGES, person=f"pco-name {person.first_name}"))
    assert cells and all(c.startswith(f"{person.first_name} Pco-Name:") for c in cells)


def test_pages_run_newest_first_and_keep_the_filter(
    admin_client: FlaskClient, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flask_pco.web.changes.PER_PAGE", 4)
    start_sync("pull", "people", mode="inline")
    first = get(admin_client, CHANGES, record_type="person")
    older = re.search(r'href="([^"]+)"[^>]*rel="next"', first)
    assert older is not None and "record_type=person" in older.group(1)
    second = get(admin_client, html.unescape(older.group(1)))
    assert 'rel="prev"' in second and "page 2 of 2" in second  # 6 people, 4 a page
    assert set(change_cells(first)).isdisjoint(change_cells(second))


def test_an_htmx_request_gets_only_the_table(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    start_sync("pull", "people", mode="inline")
    response = admin_client.get(CHANGES, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert '<section id="pco-changes"' in body and "<html" not in body


def test_names_and_search_text_are_escaped(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    sandbox.control.add_person(first_name="<b>Bold</b>", last_name="O'Hara")
    start_sync("pull", "people", mode="inline")
    page = get(admin_client, CHANGES, person='<script>"x"</script>')
    assert "<script>" not in page and "&lt;script&gt;" in page
    listed = get(admin_client, CHANGES, record_type="person")
    assert "<b>Bold</b>" not in listed and "&lt;b&gt;Bold&lt;/b&gt;" in listed


def test_a_filter_it_cannot_read_is_named_and_left_out(admin_client: FlaskClient) -> None:
    page = html.unescape(get(admin_client, CHANGES, record_type="wizard", run="ten"))
    assert "Left out of the filter: unknown record type 'wizard'" in page
    assert "a run is a number, not 'ten'" in page


def test_a_family_has_a_history_page_and_other_records_do_not(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    start_sync("pull", "full", mode="inline")
    Family = current_pco().roles.model("family")
    family = current_pco().db.session.scalars(select(Family)).first()
    page = get(admin_client, f"{ADMIN_URL}history/family/{family.id}")
    assert f"(family #{family.id})" in page and change_cells(page)
    assert admin_client.get(f"{ADMIN_URL}history/email/1").status_code == 404


def test_a_family_conflict_links_to_the_familys_history(admin_client: FlaskClient) -> None:
    Conflict = current_pco().models.Conflict
    current_pco().db.session.add(
        Conflict(role="family", local_id=7, field="name", local_value="A", pco_value="B")
    )
    current_pco().db.session.commit()
    assert f'href="{ADMIN_URL}history/family/7"' in get(admin_client, ADMIN_URL)


@pytest.mark.parametrize("path", [CHANGES, f"{ADMIN_URL}history/person/1"])
def test_staff_who_are_not_admins_are_refused(staff_client: FlaskClient, path: str) -> None:
    assert staff_client.get(path).status_code == 403


@pytest.mark.parametrize("path", [CHANGES, f"{ADMIN_URL}history/person/1"])
def test_visitors_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def journal_delivery_change(delivery_id: int, new: str) -> None:
    """An entry as a webhook delivery's apply writes it (the webhook tests cover the writing)."""
    Entry = current_pco().models.JournalEntry
    current_pco().db.session.add(
        Entry(
            delivery_id=delivery_id,
            side="local",
            record_type="person",
            local_id=None,
            pco_id="90000001",
            action="update",
            field="last_name",
            old_value="Old",
            new_value=new,
        )
    )
    current_pco().db.session.commit()


def test_a_webhook_deliverys_changes_have_their_own_filter(admin_client: FlaskClient) -> None:
    journal_delivery_change(5, "Fifth")
    journal_delivery_change(6, "Sixth")
    page = get(admin_client, CHANGES, delivery="5")
    assert change_cells(page) == ['person (PCO 90000001): last_name "Old" → "Fifth" (local)']
    assert f'href="{CHANGES}?delivery=5">webhook delivery 5</a>' in page
