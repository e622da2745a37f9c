"""The admin page speaks the site's language: its model names and column names."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from flask_pco import current_pco
from tests.lean_site import Member, dispose, lean_app, lean_db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = lean_app(database_url)
    with application.app_context():
        yield application
    dispose(application)


def test_a_conflict_names_the_sites_model_and_column(app: Flask) -> None:
    member = Member(given_name="Ruth", surname="Naomi-Local")
    lean_db.session.add(member)
    lean_db.session.flush()
    conflict = current_pco().models.Conflict(
        role="person",
        local_id=member.id,
        field="last_name",
        base_value="Naomi",
        local_value="Naomi-Local",
        pco_value="Mahlon",
    )
    lean_db.session.add(conflict)
    lean_db.session.commit()
    client = app.test_client()

    html = client.get("/admin/pco-sync/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    resolved = client.post(
        f"/admin/pco-sync/conflicts/{conflict.id}/resolve",
        data={"csrf_token": token.group(1), "keep": "local"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)

    # The host's own names, too, the person linked to their history.
    assert re.search(rf"Member <a [^>]*>Ruth Naomi-Local \(#{member.id}\)</a>", html)
    assert "<td>surname</td>" in html
    assert "last_name" not in html
    assert "Kept the local surname" in resolved
