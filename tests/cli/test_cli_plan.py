"""`flask pco sync/push --dry-run`: counts, then the plan as diffs and, with --plan, as JSON."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from flask_pco import current_pco


def _renamed_maria(sandbox: Any, sandbox_cli: Any) -> Any:
    """Maria pulled, then renamed in PCO: the next pull has one change to plan."""
    pco_id = sandbox.add_person(
        first_name="Maria", last_name="Garcia", emails=["maria@example.org"]
    )
    pco = sandbox_cli()
    assert pco("sync", "people").exit_code == 0
    sandbox.edit_person(pco_id, last_name="García")
    return pco


def _journal_size() -> int:
    Entry = current_pco().models.JournalEntry
    return int(current_pco().db.session.scalar(select(func.count()).select_from(Entry)) or 0)


def test_a_dry_run_prints_its_counts_then_each_planned_change(sandbox, sandbox_cli):
    pco = _renamed_maria(sandbox, sandbox_cli)
    result = pco("sync", "people", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "dry run: nothing written" in lines[-3]
    assert lines[-2:] == [
        "planned changes (1):",
        '  Maria García: last_name "Garcia" → "García" (local)',
    ]


def test_a_dry_run_diff_reads_as_the_real_run_s_change_then_does(sandbox, sandbox_cli):
    pco = _renamed_maria(sandbox, sandbox_cli)
    planned = pco("sync", "people", "--dry-run").output.splitlines()[-1].strip()
    assert pco("sync", "people").exit_code == 0
    run_id = current_pco().db.session.scalar(select(func.max(current_pco().models.SyncRun.id)))
    assert pco("changes", str(run_id)).output.splitlines()[1:] == [planned]


def test_a_dry_run_writes_nothing_to_the_real_tables(sandbox, sandbox_cli):
    pco = _renamed_maria(sandbox, sandbox_cli)
    entries = _journal_size()
    assert pco("sync", "people", "--dry-run").exit_code == 0
    Person = current_pco().roles.model("person")
    current_pco().db.session.expire_all()
    names = current_pco().db.session.scalars(
        select(Person.last_name).where(Person.first_name == "Maria")
    )
    assert list(names) == ["Garcia"]
    assert _journal_size() == entries


def test_a_dry_push_prints_the_changes_it_would_make_in_pco(sandbox, sandbox_cli):
    pco = _renamed_maria(sandbox, sandbox_cli)
    Person = current_pco().roles.model("person")
    maria = current_pco().db.session.scalar(select(Person).where(Person.first_name == "Maria"))
    maria.first_name = "Mária"
    current_pco().db.session.commit()
    result = pco("push", "people", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [  # PCO's rename comes along, as a push merges
        '  Mária García: first_name "Maria" → "Mária" (PCO)',
        '  Mária García: last_name "Garcia" → "García" (local)',
    ]


def test_show_prints_the_first_changes_and_says_how_many_more(sandbox, sandbox_cli):
    pco = sandbox_cli()
    result = pco("sync", "people", "--dry-run", "--show", "2")
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[-4].startswith("planned changes (")
    assert [line.endswith("created (local)") for line in lines[-3:-1]] == [True, True]
    assert lines[-1].endswith("more (--plan PATH writes them all)")


def test_plan_writes_every_change_as_json(sandbox, sandbox_cli, tmp_path):
    pco = _renamed_maria(sandbox, sandbox_cli)
    path = tmp_path / "plan.json"
    result = pco("sync", "people", "--dry-run", "--show", "0", "--plan", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"wrote 1 planned changes to {path}"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert (document["direction"], document["sync_type"], document["total"]) == (
        "pull",
        "people",
        1,
    )
    [change] = document["changes"]
    assert {k: v for k, v in change.items() if k not in ("run_id", "local_id")} == {
        "side": "local",
        "record_type": "person",
        "pco_id": change["pco_id"],
        "label": "Maria García",
        "action": "update",
        "field": "last_name",
        "old": "Garcia",
        "new": "García",
    }
    assert change["pco_id"] and change["local_id"]


def test_plan_without_dry_run_is_refused_before_a_run_starts(sandbox, sandbox_cli, tmp_path):
    result = sandbox_cli()("sync", "people", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 2
    assert "--plan writes a dry run's plan: add --dry-run" in result.output
    assert current_pco().db.session.scalar(select(func.count(current_pco().models.SyncRun.id))) == 0


def test_plan_with_enqueue_is_refused(sandbox, sandbox_cli, tmp_path):
    plan = str(tmp_path / "plan.json")
    result = sandbox_cli()("push", "people", "--dry-run", "--enqueue", "--plan", plan)
    assert result.exit_code == 2
    assert "drop --enqueue" in result.output


def test_changes_of_a_dry_run_lists_what_it_planned(sandbox, sandbox_cli):
    pco = _renamed_maria(sandbox, sandbox_cli)
    assert pco("sync", "people", "--dry-run").exit_code == 0
    run_id = current_pco().db.session.scalar(select(func.max(current_pco().models.SyncRun.id)))
    result = pco("changes", str(run_id))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"run {run_id}: pull people, succeeded; 1 changes planned (dry run)",
        'Maria García: last_name "Garcia" → "García" (local)',
    ]
