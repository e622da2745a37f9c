"""`flask pco undo RUN_ID`: a preview first with --dry-run, then the undo as a run; runs that
cannot be undone are refused in one line, with nothing written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from flask_pco import current_pco
from flask_pco.sync.runs import queue_run


def _last_run_id() -> int:
    SyncRun = current_pco().models.SyncRun
    return int(current_pco().db.session.scalar(select(func.max(SyncRun.id))) or 0)


def _renamed_maria(sandbox: Any, sandbox_cli: Any) -> tuple[Any, int]:
    """Maria pulled, renamed in PCO and pulled again: that run is the one to undo."""
    pco_id = sandbox.add_person(first_name="Maria", last_name="Garcia")
    pco = sandbox_cli()
    assert pco("sync", "people").exit_code == 0
    sandbox.edit_person(pco_id, last_name="García")
    assert pco("sync", "people").exit_code == 0
    return pco, _last_run_id()


def _maria_last_name() -> str:
    Person = current_pco().roles.model("person")
    current_pco().db.session.expire_all()
    query = select(Person.last_name).where(Person.first_name == "Maria")
    return str(current_pco().db.session.scalar(query))


def test_a_dry_run_undo_previews_the_changes_and_writes_nothing(sandbox, sandbox_cli):
    pco, run_id = _renamed_maria(sandbox, sandbox_cli)
    result = pco("undo", str(run_id), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        "planned changes (1):",
        '  Maria Garcia: last_name "García" → "Garcia" (local)',
    ]
    assert _maria_last_name() == "García"


def test_undo_reverts_the_run_and_says_what_it_did(sandbox, sandbox_cli):
    pco, run_id = _renamed_maria(sandbox, sandbox_cli)
    result = pco("undo", str(run_id))
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert _maria_last_name() == "Garcia"


def test_undo_of_an_unknown_run_is_refused(sandbox, sandbox_cli):
    result = sandbox_cli()("undo", "999")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "Error: no run with id 999"


def test_undo_of_a_dry_run_is_refused(sandbox, sandbox_cli):
    pco = sandbox_cli()
    assert pco("sync", "people", "--dry-run").exit_code == 0
    result = pco("undo", str(_last_run_id()))
    assert result.exit_code == 1
    assert "is a dry run: it changed nothing" in result.output


def test_undo_of_a_run_still_running_is_refused_and_starts_nothing(sandbox, sandbox_cli):
    pco = sandbox_cli()
    state = current_pco()
    run = queue_run(state, "people", "pull")
    run.status = "running"
    state.db.session.commit()
    result = pco("undo", str(run.id))
    assert result.exit_code == 1
    assert f"run {run.id} is still running" in result.output
    assert _last_run_id() == run.id


def test_undo_of_a_run_without_journal_entries_is_refused(sandbox, sandbox_cli):
    pco = sandbox_cli()
    assert pco("sync", "people").exit_code == 0
    assert pco("sync", "people").exit_code == 0  # unchanged: journals nothing
    result = pco("undo", str(_last_run_id()))
    assert result.exit_code == 1
    assert "has no journal entries: it changed nothing, or its entries were pruned" in (
        result.output
    )


def test_undo_needs_a_run_or_a_delivery(sandbox, sandbox_cli):
    result = sandbox_cli()("undo")
    assert result.exit_code == 2
    assert "give a RUN_ID or --delivery ID" in result.output


def test_undo_of_an_unknown_delivery_is_refused(sandbox, sandbox_cli):
    result = sandbox_cli()("undo", "--delivery", "999")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "Error: no webhook delivery with id 999"
