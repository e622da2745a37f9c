"""`flask pco ...`: every command, its --help, bad arguments and missing configuration."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
import pytest
from flask import Flask

from flask_pco.cli import pco_cli
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import get_schedule, recent_runs, set_schedule, start_sync, sync_queue
from flask_pco.models import utcnow
from flask_pco.sync.runner import this_runner
from tests.helpers import dead_runner

from .conftest import cli

COMMANDS = [
    "sync",
    "push",
    "status",
    "cancel",
    "resolve",
    "approve",
    "test-connection",
    "schedule",
    "worker",
    "scheduler",
    "config",
    "health",
]

pytestmark = pytest.mark.usefixtures("test_steps")


def assert_one_line_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_group_help_lists_every_command(pco: Any) -> None:
    result = pco("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(pco: Any, name: str) -> None:
    result = pco(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_every_option_has_help_text(app: Flask) -> None:
    context = click.Context(pco_cli)
    for name in COMMANDS:
        command = pco_cli.get_command(context, name)
        for param in command.params:  # type: ignore[union-attr]
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name} has no help"


def test_sync_runs_here_and_prints_a_summary(pco: Any) -> None:
    result = pco("sync", "counting")
    assert result.exit_code == 0, result.output
    assert "pull counting succeeded: 3 created, 0 updated, 0 skipped, 0 failed" in result.output
    (run,) = recent_runs()
    assert (run.status, run.trigger) == ("succeeded", "cli")


def test_sync_records_the_flags_it_was_given(pco: Any) -> None:
    result = pco("sync", "counting", "--incremental", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "(dry run: nothing written)" in result.output
    (run,) = recent_runs()
    assert run.incremental and run.dry_run


def test_sync_list_options_reach_the_run(cli_app: Any, redis_url: str) -> None:
    pco = cli(cli_app(PCO_REDIS_URL=redis_url))
    result = pco("sync", "people", "--list", "7", "--list", "9", "--enqueue")
    assert result.exit_code == 0, result.output
    assert recent_runs()[0].options == {"list_ids": ["7", "9"]}


def test_sync_group_option_reaches_the_run(cli_app: Any, redis_url: str) -> None:
    pco = cli(cli_app(PCO_REDIS_URL=redis_url))
    assert pco("sync", "groups", "--group", "42", "--enqueue").exit_code == 0
    assert recent_runs()[0].options == {"group_id": "42"}


def test_sync_of_an_unknown_type_lists_the_valid_ones(pco: Any) -> None:
    result = pco("sync", "nope")
    assert_one_line_error(result, "unknown pull sync 'nope'", "counting", "full")
    assert recent_runs() == []


def test_sync_without_a_type_is_a_usage_error(pco: Any) -> None:
    result = pco("sync")
    assert result.exit_code == 2
    assert "Missing argument 'TYPE'" in result.output


def test_failed_sync_exits_1_with_the_reason(pco: Any) -> None:
    result = pco("sync", "locked-out")
    assert result.exit_code == 1
    assert "pull locked-out failed" in result.output
    assert "bad app id or secret" in result.output.splitlines()[-1]


def test_sync_while_another_runs_names_the_run_in_progress(pco: Any) -> None:
    held = start_sync("push", "counting", mode="enqueue" if current_pco().redis() else "inline")
    held.status = "running"
    current_pco().db.session.commit()
    result = pco("sync", "counting")
    assert_one_line_error(result, f"push counting (run {held.id}, running)")


def test_sync_without_credentials_says_what_to_set(cli_app: Any) -> None:
    application = cli_app(PCO_APP_ID="", PCO_SECRET="")
    result = cli(application)("sync", "counting")
    assert_one_line_error(result, "PCO_APP_ID")
    assert recent_runs() == []


def test_enqueue_without_redis_is_refused(pco: Any) -> None:
    assert_one_line_error(pco("sync", "counting", "--enqueue"), "PCO_REDIS_URL")
    assert recent_runs() == []


def test_enqueue_hands_the_run_to_the_workers(cli_app: Any, redis_url: str) -> None:
    application = cli_app(PCO_REDIS_URL=redis_url)
    result = cli(application)("sync", "counting", "--enqueue")
    assert result.exit_code == 0, result.output
    (run,) = recent_runs()
    assert f"queued run {run.id}" in result.output
    assert run.status == "queued"
    assert sync_queue().get_job_ids() == [run.job_id]


def test_push_runs_here_and_prints_a_summary(pco: Any) -> None:
    result = pco("push", "counting", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "push counting succeeded: 3 created" in result.output


def test_push_of_an_unknown_type_lists_the_valid_ones(pco: Any) -> None:
    assert_one_line_error(pco("push", "slow"), "unknown push sync 'slow'", "counting")


def test_status_with_no_runs(pco: Any) -> None:
    result = pco("status")
    assert result.exit_code == 0
    assert "no sync is running" in result.output
    assert "nightly sync off" in result.output


def test_status_shows_the_current_run_and_a_table_of_recent_ones(pco: Any) -> None:
    pco("sync", "counting")
    pco("sync", "locked-out")
    queued = _queued_run()
    result = pco("status")
    assert result.exit_code == 0, result.output
    assert f"run {queued.id} queued: pull slow [queued]" in result.output
    header, *rows = result.output.split("\n\n", 1)[1].strip().splitlines()
    assert header.split()[:4] == ["ID", "QUEUED", "(UTC)", "SYNC"]
    assert [row.split()[0] for row in rows] == [str(r.id) for r in recent_runs()]
    assert len(rows) == 3
    assert "bad app id or secret" in rows[1]


def test_status_says_how_far_the_running_run_is(pco: Any) -> None:
    run = _queued_run()
    run.status, run.progress_done, run.progress_total = "running", 1200, 5000
    current_pco().db.session.commit()
    result = pco("status")
    assert "progress: 1,200 of 5,000 records" in result.output


def test_status_says_which_process_runs_the_run(pco: Any) -> None:
    run = _queued_run()
    me = this_runner()
    assert f"queued by: {me.host}, pid {me.pid}\n" in pco("status").output
    run.status = "running"
    current_pco().db.session.commit()
    assert f"run by: {me.host}, pid {me.pid}\n" in pco("status").output


def test_status_releases_a_run_whose_process_is_gone_at_once(pco: Any) -> None:
    run = _queued_run()
    ended = dead_runner()
    run.status, run.heartbeat_at = "running", utcnow()
    run.runner_host, run.runner_pid, run.runner_process = ended.host, ended.pid, ended.process
    current_pco().db.session.commit()
    result = pco("status")
    assert result.exit_code == 0, result.output
    assert "no sync is running" in result.output
    (row,) = result.output.split("\n\n", 1)[1].strip().splitlines()[1:]
    assert "failed" in row and "abandoned: its process" in row


def _issue(**values: Any) -> Any:
    state = current_pco()
    issue = state.models.SyncIssue(
        **{"kind": "invalid", "resource_type": "Email", "reason": "no address", **values}
    )
    state.db.session.add(issue)
    state.db.session.commit()
    return issue


def test_issues_lists_the_latest_records_skipped_and_why(pco: Any) -> None:
    _issue(pco_id="5001", reason="'x@' is not an email address")
    _issue(kind="unlinked", resource_type="Household", local_id=7, reason="deleted in PCO")
    result = pco("issues")
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().splitlines()
    assert "webhook  unlinked  Household #7: deleted in PCO" in first  # newest first
    assert "invalid  Email (PCO 5001): 'x@' is not an email address" in second


def test_issues_lists_held_matches_with_their_local_candidates(pco: Any) -> None:
    _issue(
        kind="ambiguous",
        resource_type="Person",
        pco_id="5001",
        reason="Ann Lee: 2 local people have ann@example.org",
        candidates=[3, 7],
    )
    _issue(kind="ambiguous", reason="settled already", resolved_at=utcnow())
    result = pco("issues")
    assert result.exit_code == 0, result.output
    assert "Person (PCO 5001): Ann Lee: 2 local people have ann@example.org" in result.output
    assert "local candidates: 3, 7" in result.output
    assert "settled already" not in result.output


def test_issues_with_nothing_to_report_says_so(pco: Any) -> None:
    assert pco("issues").output.strip() == "nothing skipped or held"


def test_issues_limit_must_be_positive(pco: Any) -> None:
    assert_one_line_error(pco("issues", "--limit", "0"), "--limit")


def _queued_run() -> Any:
    state = current_pco()
    from flask_pco.sync.runs import queue_run

    return queue_run(state, "slow", "pull")


def test_status_limit_must_be_positive(pco: Any) -> None:
    assert_one_line_error(pco("status", "--limit", "0"), "--limit")


def test_cancel_without_a_run_in_progress_fails(pco: Any) -> None:
    assert_one_line_error(pco("cancel"), "no sync is queued or running")


def test_cancel_the_current_run(pco: Any) -> None:
    run = _queued_run()
    result = pco("cancel")
    assert result.exit_code == 0, result.output
    assert "cancel requested for the current run" in result.output
    current_pco().db.session.refresh(run)
    assert run.status == "cancelled"


def test_cancel_a_run_by_id(pco: Any) -> None:
    run = _queued_run()
    assert pco("cancel", str(run.id)).exit_code == 0
    current_pco().db.session.refresh(run)
    assert run.status == "cancelled"


def test_cancel_a_finished_run_fails(pco: Any) -> None:
    pco("sync", "counting")
    run_id = recent_runs()[0].id
    assert_one_line_error(pco("cancel", str(run_id)), f"run {run_id} is not queued or running")


def test_cancel_with_a_non_number_is_a_usage_error(pco: Any) -> None:
    assert pco("cancel", "abc").exit_code == 2


def test_schedule_shows_the_setting(pco: Any) -> None:
    result = pco("schedule")
    assert result.exit_code == 0
    assert result.output.strip() == "nightly sync off: every day at 02:00 UTC"


def test_schedule_enable_sets_hour_and_warns_about_automations(pco: Any) -> None:
    result = pco("schedule", "--enable", "--hour", "3")
    assert result.exit_code == 0, result.output
    assert "nightly sync on: every day at 03:00 UTC" in result.output
    assert "next run:" in result.output and "automations" in result.output
    assert (get_schedule().enabled, get_schedule().hour) == (True, 3)


def test_schedule_disable_keeps_the_hour(pco: Any) -> None:
    set_schedule(True, 5)
    assert pco("schedule", "--disable").exit_code == 0
    assert (get_schedule().enabled, get_schedule().hour) == (False, 5)


def test_schedule_bad_hour_is_refused_and_changes_nothing(pco: Any) -> None:
    assert_one_line_error(pco("schedule", "--enable", "--hour", "25"), "0 to 23")
    assert get_schedule().enabled is False


def test_worker_burst_runs_the_queued_sync(cli_app: Any, redis_url: str) -> None:
    application = cli_app(PCO_REDIS_URL=redis_url)
    run = start_sync("pull", "counting", mode="enqueue")
    result = cli(application)("worker", "--burst", "--simple")
    assert result.exit_code == 0, result.output
    current_pco().db.session.refresh(run)
    assert run.status == "succeeded"


def test_worker_without_redis_is_refused(pco: Any) -> None:
    assert_one_line_error(pco("worker", "--burst"), "PCO_REDIS_URL")


def test_scheduler_without_redis_is_refused(pco: Any) -> None:
    assert_one_line_error(pco("scheduler"), "PCO_REDIS_URL")


def test_config_shows_settings_without_secrets(pco: Any) -> None:
    result = pco("config")
    assert result.exit_code == 0
    assert "credentials      configured" in result.output
    assert "test-secret" not in result.output


def _held_person_match(candidates: list[int]) -> Any:
    state = current_pco()
    issue = state.models.SyncIssue(
        kind="ambiguous",
        resource_type="Person",
        pco_id="90000001",
        reason="Pat Doe: the name and date of birth matches 2 local people",
        candidates=candidates,
    )
    state.db.session.add(issue)
    state.db.session.commit()
    return issue


def _local_people(n: int) -> list[Any]:
    from example_app.models import Person

    people = [Person(first_name="Pat", last_name="Doe") for _ in range(n)]
    current_pco().db.session.add_all(people)
    current_pco().db.session.commit()
    return people


def test_resolve_links_a_held_match_to_the_candidate_given(pco: Any) -> None:
    first, second = _local_people(2)
    issue = _held_person_match([first.id, second.id])
    result = pco("resolve", str(issue.id), "--link", str(first.id))
    assert result.exit_code == 0, result.output
    current_pco().db.session.expire_all()
    assert (first.pco_id, second.pco_id) == ("90000001", None)


def test_resolve_create_new_records_the_decision(pco: Any) -> None:
    issue = _held_person_match([1, 2])
    result = pco("resolve", str(issue.id), "--create-new")
    assert result.exit_code == 0 and "creates a new local person" in result.output
    current_pco().db.session.expire_all()
    assert issue.resolution == "create_new"


def test_resolve_refuses_an_id_that_is_not_a_candidate(pco: Any) -> None:
    first, second, other = _local_people(3)
    issue = _held_person_match([first.id, second.id])
    assert_one_line_error(
        pco("resolve", str(issue.id), "--link", str(other.id)), "is not a candidate"
    )


def test_resolve_needs_exactly_one_decision(pco: Any) -> None:
    issue = _held_person_match([1, 2])
    assert_one_line_error(pco("resolve", str(issue.id)), "exactly one of")


def test_resolve_of_an_issue_that_is_no_held_match_says_so(pco: Any) -> None:
    assert_one_line_error(pco("resolve", "999", "--create-new"), "not a held person match")


def test_issues_lists_held_matches_with_their_candidates_and_how_to_settle_them(pco: Any) -> None:
    issue = _held_person_match([3, 4])
    output = pco("issues").output
    assert "held: " in output and "local candidates: 3, 4" in output
    assert f"flask pco resolve {issue.id} --link ID" in output


def test_a_command_loads_only_its_own_module() -> None:
    """`flask pco config` answers without importing the queue (RQ, Redis) it does not use."""
    code = (
        "import sys, click; from flask_pco.cli import pco_cli; "
        "pco_cli.get_command(click.Context(pco_cli), 'config'); "
        "print(sorted(m for m in ('rq', 'flask_pco.jobs.queue', 'flask_pco.cli.runs') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_commands_import_from_the_cli_package_as_before() -> None:
    from flask_pco.cli import sync_command, webhooks_group

    assert sync_command.name == "sync"
    assert webhooks_group.name == "webhooks"
