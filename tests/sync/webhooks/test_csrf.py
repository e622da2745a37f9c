"""The webhook route is exempt from the site's own CSRF protection, whatever the order of set-up.

PCO cannot send a CSRF token; the HMAC signature is what protects the route, and it still does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.lean_site import dispose, lean_app
from tests.sync.webhooks.conftest import NO_PCO, SECRET, delivery_body, post

GROUP_EVENT = "groups.v2.events.group.created"
GROUP = {"type": "Group", "id": "7001", "attributes": {"name": "Youth"}}


@pytest.fixture(params=["before", "after"])
def site(request: pytest.FixtureRequest, database_url: str) -> Iterator[Flask]:
    """The lean site with CSRFProtect set up before or after flask-pco."""
    app = lean_app(database_url, csrf=request.param, PCO_WEBHOOK_SECRET=SECRET, PCO_API_URL=NO_PCO)

    @app.post("/giving")
    def giving() -> str:
        return "thank you"

    yield app
    dispose(app)


def test_a_signed_delivery_passes_the_sites_csrf_protection(site: Flask) -> None:
    response = post(site.test_client(), delivery_body(GROUP_EVENT, GROUP))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_an_unsigned_delivery_is_still_refused(site: Flask) -> None:
    response = post(site.test_client(), delivery_body(GROUP_EVENT, GROUP), secret=None)
    assert response.status_code == 401


def test_the_sites_own_forms_keep_their_csrf_protection(site: Flask) -> None:
    assert site.test_client().post("/giving").status_code == 400
