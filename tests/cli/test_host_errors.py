"""A host site's set-up mistakes end in one line, through the site's own `flask` command.

The site is the lean one (its own names, its own ``create_app``), loaded by Flask's CLI as
``flask --app site ...`` would: a wrong setting or model mapping while the app loads, tables
nobody migrated, a database that cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import FlaskGroup

from tests.lean_site import dispose, lean_app

UNREACHABLE = "postgresql+psycopg://church:hunter2@127.0.0.1:9/church"


def flask_command(factory: Callable[[], Flask], *args: str) -> Result:
    """``flask <args>`` for the site that ``factory`` builds."""
    group = FlaskGroup(create_app=factory, load_dotenv=False)
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def assert_one_line(result: Result, expected_start: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {expected_start}"), lines[0]
    return lines[0]


@pytest.fixture
def sites() -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for app in made:
        dispose(app)


def site(sites: list[Flask], database_url: str, **options: Any) -> Callable[[], Flask]:
    def create_app() -> Flask:
        sites.append(lean_app(database_url, **options))
        return sites[-1]

    return create_app


def test_a_malformed_setting_stops_the_sites_start_up_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    result = flask_command(lambda: lean_app(url, create_tables=False, PCO_PER_PAGE=500), "routes")
    assert_one_line(result, "PCO_PER_PAGE must be a whole number from 1 to 100, got 500")


def test_a_model_mapping_mistake_stops_the_sites_start_up_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    fields = {"person": {"first_name": "given_name", "last_name": "surname"}}
    factory = lambda: lean_app(url, ("person",), fields=fields, create_tables=False)  # noqa: E731
    line = assert_one_line(flask_command(factory, "pco", "status"), "Member (person)")
    assert "has no column 'dob' (a date, Date)" in line
    assert "fields={'person': {'dob': 'birth_date'}}" in line


def test_tables_nobody_migrated_are_one_line_suggesting_flask_db_upgrade(
    sites: list[Flask], empty_database_url: str
) -> None:
    result = flask_command(site(sites, empty_database_url, create_tables=False), "pco", "status")
    line = assert_one_line(result, "the database ")
    assert "has no table pco_sync_log: run `flask db upgrade`" in line


def test_workers_refuse_to_start_on_tables_nobody_migrated(
    sites: list[Flask], empty_database_url: str
) -> None:
    factory = site(sites, empty_database_url, create_tables=False)
    line = assert_one_line(flask_command(factory, "pco", "worker", "--burst"), "the database ")
    assert "has no table pco_sync_log, pco_sync_issue," in line
    assert "members, member_emails, member_phones, households, household_members" in line


def test_an_unreachable_database_is_one_line_naming_the_url_without_its_password(
    sites: list[Flask],
) -> None:
    result = flask_command(site(sites, UNREACHABLE, create_tables=False), "pco", "status")
    line = assert_one_line(
        result,
        "cannot reach the database at postgresql+psycopg://church:***@127.0.0.1:9/church: ",
    )
    assert "hunter2" not in result.output
    assert "Connection refused" in line


def test_the_admin_page_says_in_one_line_that_the_tables_are_missing(
    empty_database_url: str,
) -> None:
    app = lean_app(empty_database_url, create_tables=False)
    try:
        response = app.test_client().get("/admin/pco-sync/")
    finally:
        dispose(app)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert body.startswith("flask-pco: the database ") and body.count("\n") == 1
    assert "has no table pco_" in body and "run `flask db upgrade`" in body


def test_a_webhook_on_tables_nobody_migrated_gets_a_500_that_pco_retries(
    empty_database_url: str,
) -> None:
    app = lean_app(empty_database_url, create_tables=False, PCO_WEBHOOK_SECRET="s")
    try:
        response = app.test_client().post("/api/pco/webhook", data=b"[]")
    finally:
        dispose(app)
    assert response.status_code == 500
    assert "has no table pco_" in response.get_json()["error"]
