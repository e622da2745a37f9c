"""Fuzz the people pull end to end: whatever PCO's pages hold, the run ends with a status (never
an unhandled exception), and only records that map to a person can become local rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from example_app.models import Person
from flask_pco.client.jsonapi import parse_document
from flask_pco.exceptions import DocumentError, PcoError
from flask_pco.extension import current_pco
from flask_pco.mapping.people import person_from_resource
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.conftest import make_app
from tests.helpers import APPS_MADE

from .strategies import documents, people_pages

PCO = "https://api.planningcenteronline.com"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def church(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The example app on each database: PostgreSQL refuses what SQLite keeps (NUL, values
    longer than a column), which must cost one record, never the page or the run."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz-pull')) / 'church.sqlite'}"
    else:
        database_url = str(request.getfixturevalue("postgres_url"))
    app = make_app(database_url, PCO_API_URL=PCO, PCO_RATE_LIMIT=100_000, PCO_RATE_PERIOD=1)
    APPS_MADE.remove(app)  # shared by the module: closed here, not after its first test
    with app.app_context():
        yield app
        current_pco().db.session.remove()
        current_pco().db.engine.dispose()


def expected(body: Any) -> tuple[int, int]:
    """(records that parse and map to a person: an upper bound on new rows, malformed records
    the page holds: each must be reported)."""
    try:
        document = parse_document(body)
    except DocumentError:
        return 0, 0
    mappable = 0
    for resource in document.data:
        try:
            person_from_resource(resource, document)
        except DocumentError:
            continue
        mappable += 1
    return mappable, len(document.skipped)


def counts() -> tuple[int, int]:
    """(local people, 'invalid' issues reported)."""
    state = current_pco()
    session = state.db.session
    session.rollback()
    Issue = state.models.SyncIssue
    people = session.scalar(select(func.count()).select_from(Person))
    invalid = session.scalar(select(func.count()).select_from(Issue).where(Issue.kind == "invalid"))
    session.rollback()  # hand the connection back to the pool
    return int(people or 0), int(invalid or 0)


@FUZZ
@given(st.one_of(people_pages, people_pages, documents))
def test_a_pull_of_any_page_ends_with_a_status_and_writes_only_mappable_people(
    church: Flask, body: Any
) -> None:
    state = current_pco()
    people_before, invalid_before = counts()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(re.compile(re.escape(PCO) + ".*"), body=json.dumps(body),
                 content_type="application/json")  # fmt: skip
        run = queue_run(state, "people", "pull", trigger="fuzz")
        with suppress(PcoError):  # recorded on the run row; anything else fails the test
            execute_run(state, run, state.client())
    state.db.session.rollback()
    run = state.db.session.get(state.models.SyncRun, run.id)
    assert run.status in ("succeeded", "failed")
    assert "DataError" not in (run.error_message or ""), run.error_message
    people_after, invalid_after = counts()
    mappable, malformed = expected(body)
    written = people_after - people_before
    event(f"run {run.status}, {'some' if written else 'no'} people written")
    assert written <= mappable
    if run.status == "succeeded":
        assert invalid_after - invalid_before >= malformed
