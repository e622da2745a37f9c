"""The admin page shows each synced field's rule, and custom fields in its conflicts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from flask_pco import current_pco
from tests.fields_site import Parishioner, dispose, fields_app, fields_db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = fields_app(
        database_url,
        custom={"T-shirt size": "shirt_size", "Small group interest": "interests"},
        rules={"first_name": "local_wins", "shirt_size": "push_only+keep_filled"},
    )
    with application.app_context():
        yield application
    dispose(application)


def test_the_page_lists_synced_fields_with_their_rules(app: Flask) -> None:
    html = app.test_client().get("/admin/pco-sync/").get_data(as_text=True)

    card = html[html.index('id="pco-fields"') :]
    assert re.search(r"<code>given_name</code></td>\s*<td><code>local_wins</code>", card)
    assert re.search(r"<code>surname</code></td>\s*<td><code>two_way</code>", card)
    assert "PCO custom field “T-shirt size”" in card
    assert "push_only+keep_filled" in card and "an empty value never clears a filled one" in card


def test_a_custom_field_conflict_is_shown_and_the_sites_value_can_be_kept(app: Flask) -> None:
    row = Parishioner(given_name="Ada", surname="King", interests=["Youth"])
    fields_db.session.add(row)
    fields_db.session.flush()
    conflict = current_pco().models.Conflict(
        role="person", local_id=row.id, field="interests",
        base_value=["Prayer"], local_value=["Prayer", "Service"], pco_value=["Youth"],
    )  # fmt: skip
    fields_db.session.add(conflict)
    fields_db.session.commit()
    client = app.test_client()

    html = client.get("/admin/pco-sync/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    resolved = client.post(
        f"/admin/pco-sync/conflicts/{conflict.id}/resolve",
        data={"csrf_token": token.group(1), "keep": "local"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)

    assert "<td>interests</td>" in html
    assert "Kept the local interests" in resolved
    fields_db.session.expire_all()
    assert fields_db.session.get(Parishioner, row.id).interests == ["Prayer", "Service"]
