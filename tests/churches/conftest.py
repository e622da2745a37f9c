"""Two churches on one site, one database and one Redis, each connected to its own PCO
organisation of one sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask

from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.state import PcoState
from tests.churches_site import churches_app, connect_church, dispose

#: The site's ids for its two churches, and the PCO organisation each connected.
GRACE, HOPE = "1", "2"
HOPE_ORGANIZATION = "300002"
ORGANIZATIONS = {GRACE: ORGANIZATION_ID, HOPE: HOPE_ORGANIZATION}


@pytest.fixture(scope="module")
def two_organizations() -> Iterator[SandboxServer]:
    app = create_sandbox_app(people=4, seed=5, organizations=[(HOPE_ORGANIZATION, "Hope Chapel")])
    with SandboxServer(app) as server:
        yield server


@contextmanager
def connected_site(
    database_url: str, redis_url: str, sandbox: SandboxServer, **config: Any
) -> Iterator[Flask]:
    """The site, both churches connected, inside its app context."""
    app = churches_app(database_url, sandbox.url, redis_url, **config)
    with app.app_context():
        state: PcoState = app.extensions["pco"]
        for church, organization in ORGANIZATIONS.items():
            connect_church(state, sandbox, church, organization)
        yield app
    dispose(app)


@pytest.fixture
def site(database_url: str, redis_url: str, two_organizations: SandboxServer) -> Iterator[Flask]:
    """The site, both churches connected."""
    with connected_site(database_url, redis_url, two_organizations) as app:
        yield app


@pytest.fixture
def own_sandbox() -> Iterator[SandboxServer]:
    """Two organisations of a sandbox of the test's own: no subscription and no request in
    its logs yet (the module's sandbox keeps what other tests did)."""
    app = create_sandbox_app(people=60, seed=5, organizations=[(HOPE_ORGANIZATION, "Hope Chapel")])
    with SandboxServer(app) as server:
        yield server


@pytest.fixture
def own_site(database_url: str, redis_url: str, own_sandbox: SandboxServer) -> Iterator[Flask]:
    """The site, both churches connected through OAuth only (no site-wide credentials), on
    ``own_sandbox``; listings come in pages of 25, so a pull of 60 people pages."""
    with connected_site(database_url, redis_url, own_sandbox, PCO_PER_PAGE=25) as app:
        yield app
