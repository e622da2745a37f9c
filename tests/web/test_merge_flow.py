"""A merge of two local people from a real pull, settled on the admin page."""

from __future__ import annotations

import dataclasses
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer

from .conftest import ADMIN_URL, post


def merged_in_pco(
    sandbox: SandboxServer, kept: dict[str, object], removed: dict[str, object]
) -> tuple[int, int]:
    """Pull two people, give each local data, merge the second into the first in PCO, pull
    again. Returns the local ids of the kept and the removed profile."""
    from example_app.models import Person, db

    keep = sandbox.control.add_person(first_name="Naomi", last_name="Moab")
    remove = sandbox.control.add_person(first_name="Naomi", last_name="Mara")
    start_sync("pull", "people", mode="inline")
    rows = {p.pco_id: p for p in db.session.scalars(select(Person))}
    for pco_id, values in ((keep, kept), (remove, removed)):
        for column, value in values.items():
            setattr(rows[pco_id], column, value)
    db.session.commit()
    sandbox.control.merge_people(keep, remove)
    start_sync("pull", "people", mode="inline")
    return rows[keep].id, rows[remove].id


def person(local_id: int):  # type: ignore[no-untyped-def]
    from example_app.models import Person, db

    db.session.expire_all()
    return db.session.get(Person, local_id)


def test_a_held_merge_is_carried_out_by_its_button(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    current_pco().config = dataclasses.replace(current_pco().config, auto_merge=False)
    kept_id, removed_id = merged_in_pco(sandbox, {}, {"allergies": "peanuts"})
    page = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert re.search(rf"Merge [^<]*\(#{removed_id}\) into [^<]*\(#{kept_id}\)", page)
    issue = current_pco().db.session.scalars(select(current_pco().models.SyncIssue)).one()

    post(admin_client, f"{ADMIN_URL}issues/{issue.id}/merge")

    assert person(kept_id).allergies == "peanuts"
    assert person(removed_id).pco_merged_into == kept_id
    assert f"(#{removed_id}) into" not in admin_client.get(ADMIN_URL).get_data(as_text=True)


def test_a_merge_conflict_can_take_the_merged_persons_value(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    kept_id, removed_id = merged_in_pco(sandbox, {"allergies": "gluten"}, {"allergies": "peanuts"})
    assert person(kept_id).allergies == "gluten"
    page = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f"merged from #{removed_id}" in page
    conflict = current_pco().db.session.scalars(select(current_pco().models.Conflict)).one()

    post(admin_client, f"{ADMIN_URL}conflicts/{conflict.id}/resolve", {"keep": "local"})

    assert person(kept_id).allergies == "peanuts"
