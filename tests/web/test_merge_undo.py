"""An admin's one-click merge is a run of its own: listed with the others, with the Undo
button that puts every row back."""

from __future__ import annotations

import dataclasses
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from flask_pco.extension import current_pco
from flask_pco.jobs.threads import wait_for_run
from flask_pco.sandbox import SandboxServer
from tests.sync.undo.conftest import tables

from .conftest import ADMIN_URL, post
from .test_merge_flow import merged_in_pco


def _merged_by_its_button(client: FlaskClient, sandbox: SandboxServer) -> tuple[int, dict]:
    """A held merge carried out by its button: (the merge run's id, the tables before it)."""
    current_pco().config = dataclasses.replace(current_pco().config, auto_merge=False)
    merged_in_pco(sandbox, {}, {"allergies": "peanuts"})
    issue = current_pco().db.session.scalars(select(current_pco().models.SyncIssue)).one()
    before = tables(current_pco().db)
    post(client, f"{ADMIN_URL}issues/{issue.id}/merge")
    SyncRun = current_pco().models.SyncRun
    run = current_pco().db.session.scalars(select(SyncRun).filter_by(direction="merge")).one()
    assert (run.trigger, run.status) == ("admin", "succeeded")
    return run.id, before


def test_an_admins_merge_is_listed_with_an_undo_button(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    run_id, _ = _merged_by_its_button(admin_client, sandbox)
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f'id="pco-undo-{run_id}"' in html


def test_undo_of_an_admins_merge_from_the_page_puts_every_row_back(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    run_id, before = _merged_by_its_button(admin_client, sandbox)
    preview = post(admin_client, f"{ADMIN_URL}runs/{run_id}/undo").headers["Location"]
    wait_for_run(int(re.search(r"previews/(\d+)", preview).group(1)), 60.0)
    response = post(admin_client, f"{preview}/run")
    wait_for_run(int(re.search(r"run=(\d+)", response.headers["Location"]).group(1)), 60.0)
    assert tables(current_pco().db) == before
