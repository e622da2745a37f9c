"""`flask pco history` and `flask pco changes`: the journal in words, and clear errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco import current_pco
from tests.cli.test_cli import assert_one_line_error


def _last_run_id() -> int:
    SyncRun = current_pco().models.SyncRun
    return int(current_pco().db.session.scalar(select(SyncRun.id).order_by(SyncRun.id.desc())))


def _renamed_maria(sandbox: Any, sandbox_cli: Any) -> tuple[Any, int, int]:
    """Maria pulled, then renamed in PCO and pulled again: (cli, first run, second run)."""
    pco_id = sandbox.add_person(
        first_name="Maria", last_name="Garcia", emails=["maria@example.org"]
    )
    pco = sandbox_cli()
    assert pco("sync", "people").exit_code == 0
    first = _last_run_id()
    sandbox.edit_person(pco_id, last_name="García")
    assert pco("sync", "people").exit_code == 0
    return pco, first, _last_run_id()


def test_changes_prints_each_change_as_a_readable_diff(sandbox, sandbox_cli):
    pco, _, run_id = _renamed_maria(sandbox, sandbox_cli)
    result = pco("changes", str(run_id))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"run {run_id}: pull people, succeeded; 1 changes",
        'Maria García: last_name "Garcia" → "García" (local)',  # named as they are now
    ]


def test_changes_of_a_first_pull_lists_the_people_created(sandbox, sandbox_cli):
    pco, first, _ = _renamed_maria(sandbox, sandbox_cli)
    result = pco("changes", str(first))
    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("Maria García: created (local)") for line in result.output.splitlines()
    )


def test_changes_stops_at_the_limit_and_says_how_many_more(sandbox, sandbox_cli):
    pco, first, _ = _renamed_maria(sandbox, sandbox_cli)
    result = pco("changes", str(first), "--limit", "2")
    lines = result.output.splitlines()
    assert (result.exit_code, len(lines)) == (0, 4)
    assert lines[-1].endswith("more (--limit)")


def test_history_by_email_says_when_which_side_and_which_run(sandbox, sandbox_cli):
    pco, first, second = _renamed_maria(sandbox, sandbox_cli)
    result = pco("history", "MARIA@example.org")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"  run {first}  Maria García: created (local)" in lines[0]
    assert lines[-1].endswith(
        f'  run {second}  Maria García: last_name "Garcia" → "García" (local)'
    )


def test_history_of_an_unknown_id_is_a_one_line_error(pco):
    assert_one_line_error(pco("history", "999"), "no local person with id 999")


def test_history_of_an_unknown_email_is_a_one_line_error(pco):
    assert_one_line_error(pco("history", "nobody@example.org"), "no local person has the email")


def test_history_of_neither_id_nor_email_is_a_one_line_error(pco):
    assert_one_line_error(pco("history", "Maria"), "neither a local person id nor an email")


def test_changes_of_an_unknown_run_is_a_one_line_error(pco):
    assert_one_line_error(pco("changes", "4242"), "no run with id 4242")


def test_a_held_match_linked_by_hand_shows_in_the_person_s_history(pco):
    from tests.cli.test_cli import _held_person_match, _local_people

    first, second = _local_people(2)
    issue = _held_person_match([first.id, second.id])
    assert pco("resolve", str(issue.id), "--link", str(first.id)).exit_code == 0
    result = pco("history", str(first.id))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith(
        "  admin  Pat Doe: linked to PCO 90000001 (local)"
    )
