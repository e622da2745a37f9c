"""`flask pco` against a live sandbox: test-connection, and real pulls inline and by a worker."""

from __future__ import annotations

import gc
from typing import Any

import requests
from sqlalchemy import func, select

from example_app.models import Person
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import recent_runs
from flask_pco.sandbox.testing import SandboxControl, SandboxServer


def people_count() -> int:
    return int(current_pco().db.session.scalar(select(func.count()).select_from(Person)))


def test_test_connection_prints_the_organisation_and_rate_budget(
    sandbox_cli: Any, sandbox_server: SandboxServer
) -> None:
    organisation = requests.get(
        f"{sandbox_server.url}/people/v2", auth=("sandbox", "sandbox-secret"), timeout=5
    ).json()["data"]["attributes"]["name"]
    result = sandbox_cli()("test-connection")
    assert result.exit_code == 0, result.output
    assert f"connected to {organisation}" in result.output
    assert "rate limit: " in result.output and "requests used" in result.output


def test_test_connection_with_a_wrong_secret_says_so_in_one_line(sandbox_cli: Any) -> None:
    result = sandbox_cli(PCO_SECRET="wrong")("test-connection")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "bad credentials" in result.output


def test_test_connection_without_credentials_says_what_to_set(sandbox_cli: Any) -> None:
    result = sandbox_cli(PCO_APP_ID="", PCO_SECRET="")("test-connection")
    assert result.exit_code == 1
    assert "PCO_APP_ID" in result.output


def test_sync_people_pulls_the_sandbox_people_here(sandbox_cli: Any) -> None:
    result = sandbox_cli()("sync", "people")
    assert result.exit_code == 0, result.output
    assert "pull people succeeded: 6 created" in result.output
    assert people_count() == 6
    (run,) = recent_runs()
    assert run.requests_used >= 2  # 6 people on pages of 4


def test_an_inline_sync_leaves_the_loaded_app_out_of_garbage_collection(sandbox_cli: Any) -> None:
    gc.unfreeze()
    result = sandbox_cli()("sync", "people")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() > 0


def test_full_sync_queued_and_run_by_a_worker(sandbox_cli: Any, redis_url: str) -> None:
    pco = sandbox_cli(PCO_REDIS_URL=redis_url)
    assert pco("sync", "full", "--enqueue").exit_code == 0
    result = pco("worker", "--burst", "--simple")
    assert result.exit_code == 0, result.output
    (run,) = recent_runs()
    assert (run.status, run.current_step) == ("succeeded", "done"), run.error_message
    assert run.created >= 6
    assert people_count() == 6


def test_sandbox_command_is_offered(sandbox_cli: Any) -> None:
    result = sandbox_cli()("sandbox", "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_a_run_waiting_for_approval_exits_3_and_approve_makes_its_removals(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    pco = sandbox_cli(PCO_MAX_REMOVALS=1, PCO_MAX_REMOVALS_PERCENT=0, PCO_REMOVE_AFTER_MISSES=1)
    assert pco("sync", "people").exit_code == 0
    active = [p for p in current_pco().db.session.scalars(select(Person)) if p.is_active]
    for person in active[:2]:
        sandbox.delete_person(person.pco_id)
    result = pco("sync", "people")
    assert result.exit_code == 3, result.output
    run_id = recent_runs(1)[0].id
    assert f"flask pco approve {run_id}" in result.output
    status = pco("status")
    assert f"run {run_id} waits for approval" in status.output and "deactivate" in status.output
    approved = pco("approve", str(run_id))
    assert approved.exit_code == 0 and "approved: 2 removed" in approved.output
    again = pco("approve", str(run_id))
    assert again.exit_code == 1 and "not waiting for approval" in again.output
