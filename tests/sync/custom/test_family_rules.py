"""Rules apply beyond people: a household name the site owns is pushed, never pulled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.lean_site import Household, dispose, lean_app, lean_db
from tests.sync.pull.test_optional_columns import run


@pytest.fixture
def app(database_url: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    settings = sandbox_settings(sandbox_server.url, PCO_PER_PAGE=10, **NO_RATE_LIMIT)
    application = lean_app(database_url, rules={"family": {"name": "push_only"}}, **settings)
    with application.app_context():
        yield application
    dispose(application)


def test_a_push_only_household_name_follows_the_site(app: Flask, sandbox: SandboxControl) -> None:
    ruth = sandbox.add_person(first_name="Ruth", last_name="Naomi", birthdate="1980-02-03")
    household = sandbox.add_household([ruth], "Naomi")
    run("pull", "people")
    run("pull", "families")
    family = lean_db.session.scalar(select(Household).where(Household.pco_id == household))
    family.label = "The Naomis"
    lean_db.session.commit()

    run("push", "families")
    sandbox.edit_household(household, name="Naomi-Mahlon")
    run("pull", "families")

    lean_db.session.expire_all()
    assert lean_db.session.get(Household, family.id).label == "The Naomis"
    run("push", "families")  # and PCO follows the site again
    names = {h["id"]: h["name"] for h in sandbox.state()["records"]["Household"]}
    assert names[household] == "The Naomis"
