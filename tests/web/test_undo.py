"""The admin's Undo: a finished run's row has the button; it previews the undo, and "Run it"
reverts the run. What the run created in PCO is deleted only when the box is ticked."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.jobs.threads import wait_for_run
from tests.sync.push.conftest import add_person

from .conftest import ADMIN_URL, post


def _renamed_in_pco_and_pulled(sandbox) -> tuple[int, dict]:
    """The people pulled, one renamed in PCO, pulled again: (that run's id, the person)."""
    start_sync("pull", "people", mode="inline")
    person = sandbox.control.state()["records"]["Person"][0]
    sandbox.control.edit_person(person["id"], last_name="Changed")
    return start_sync("pull", "people", mode="inline").id, person


def _undo_preview(client: FlaskClient, run_id: int, **form: str) -> str:
    """Press Undo on run ``run_id``; the preview's URL once its dry run has ended."""
    response = post(client, f"{ADMIN_URL}runs/{run_id}/undo", form)
    assert response.status_code == 302
    location = response.headers["Location"]
    match = re.search(r"previews/(\d+)", location)
    assert match, location
    wait_for_run(int(match.group(1)), 60.0)
    return location


def _last_name(pco_id: str) -> str:
    Person = current_pco().roles.model("person")
    current_pco().db.session.expire_all()
    return str(current_pco().db.session.scalar(select(Person.last_name).filter_by(pco_id=pco_id)))


def test_a_finished_run_s_row_has_an_undo_button(admin_client, sandbox):
    run_id, _ = _renamed_in_pco_and_pulled(sandbox)
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f'id="pco-undo-{run_id}"' in html


def test_undo_shows_a_preview_and_run_it_reverts_the_run(admin_client, sandbox):
    run_id, person = _renamed_in_pco_and_pulled(sandbox)
    preview = _undo_preview(admin_client, run_id)
    html = admin_client.get(preview).get_data(as_text=True)
    assert f"Preview: undo run {run_id}" in html
    assert "1 planned change, 1 to 1 shown." in html
    assert f"last_name &#34;Changed&#34; → &#34;{person['last_name']}&#34;" in html
    assert _last_name(person["id"]) == "Changed"  # a preview writes nothing
    response = post(admin_client, f"{preview}/run")
    wait_for_run(int(re.search(r"run=(\d+)", response.headers["Location"]).group(1)), 60.0)
    assert _last_name(person["id"]) == person["last_name"]


def test_undo_of_a_dry_run_is_refused_with_a_message(admin_client, sandbox):
    dry = start_sync("pull", "people", dry_run=True, mode="inline")
    response = post(admin_client, f"{ADMIN_URL}runs/{dry.id}/undo")
    assert response.status_code == 302
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f"Cannot undo: run {dry.id} is a dry run" in html


def _pushed_newcomer(sandbox) -> int:
    sandbox.control.reset(people=0)
    add_person(current_pco().db, "Dana", "Newcomer")
    return start_sync("push", "people", mode="inline").id


def _run_it(client: FlaskClient, preview: str) -> str:
    response = post(client, f"{preview}/run")
    wait_for_run(int(re.search(r"run=(\d+)", response.headers["Location"]).group(1)), 60.0)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_records_the_run_created_in_pco_are_listed_and_kept_unless_ticked(admin_client, sandbox):
    preview = _undo_preview(admin_client, _pushed_newcomer(sandbox))
    html = admin_client.get(preview).get_data(as_text=True)
    assert "1 record the run created in Planning Center</strong>: kept by this undo" in html
    assert 'name="delete_created"' in html
    _run_it(admin_client, preview)
    assert len(sandbox.control.state()["records"]["Person"]) == 1


def test_ticking_the_box_previews_their_deletion_and_run_it_deletes_them(admin_client, sandbox):
    pushed = _pushed_newcomer(sandbox)
    preview = _undo_preview(admin_client, pushed, delete_created="yes")
    html = admin_client.get(preview).get_data(as_text=True)
    assert "this undo deletes it there." in html
    assert re.findall(r"<tr><td>.*?</tr>", html) == [
        "<tr><td>Dana Newcomer</td><td>removed</td><td>PCO</td></tr>",
        "<tr><td>Dana Newcomer</td><td>unlinked</td><td>local</td></tr>",
    ]
    outcome = _run_it(admin_client, preview)
    assert sandbox.control.state()["records"].get("Person", []) == []
    assert "The run made exactly the" in outcome


def test_undo_of_an_unknown_delivery_is_refused_with_a_message(admin_client, sandbox):
    response = post(admin_client, f"{ADMIN_URL}deliveries/999/undo")
    assert response.status_code == 302
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Cannot undo: no webhook delivery with id 999" in html


def test_a_run_s_changes_page_offers_its_undo(admin_client, sandbox):
    run_id, _ = _renamed_in_pco_and_pulled(sandbox)
    html = admin_client.get(f"{ADMIN_URL}changes?run={run_id}").get_data(as_text=True)
    assert f"Undo run {run_id}</button>" in html


def _pushed_family_address(sandbox) -> tuple[int, int]:
    """A family whose address the site typed in, pushed onto its contact's new Address:
    (that push's id, the family's id)."""
    sandbox.control.reset(people=0)
    maria = sandbox.control.add_person(first_name="Maria", last_name="Garcia")
    sandbox.control.add_household([maria], "Garcia", primary_contact=maria)
    start_sync("pull", "full", mode="inline")
    db, Family = current_pco().db, current_pco().roles.model("family")
    family = db.session.scalar(select(Family))
    family.street, family.city, family.zip = "1 Main St", "Portland", "97201"
    db.session.commit()
    return start_sync("push", "families", mode="inline").id, family.id


def test_the_address_a_push_made_for_a_family_is_offered_for_deletion_by_name(
    admin_client, sandbox
):
    pushed, family_id = _pushed_family_address(sandbox)
    preview = _undo_preview(admin_client, pushed)
    html = admin_client.get(preview).get_data(as_text=True)
    assert f"<li>address of Garcia (family #{family_id}): created (PCO)</li>" in html
    _run_it(admin_client, _undo_preview(admin_client, pushed, delete_created="yes"))
    assert sandbox.control.state()["records"].get("Address", []) == []
