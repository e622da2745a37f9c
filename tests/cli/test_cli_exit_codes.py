"""What `flask pco sync|push` exit with, so cron can tell: 0 when every record went through
(skipped ones, left on purpose, included), 1 when the run failed, 3 when it waits for approval
(tested in test_cli_sandbox.py) and 4 when it finished but left records failed or held. Each
code comes from a real run against the sandbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from example_app.models import Person
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import recent_runs
from flask_pco.sandbox.testing import SandboxControl


def _local_people(first: str, last: str, dob: date, n: int) -> None:
    session = current_pco().db.session
    session.add_all(Person(first_name=first, last_name=last, dob=dob) for _ in range(n))
    session.commit()


def _held_match(sandbox: SandboxControl) -> None:
    """Two local people with the name and birth date of one PCO person: the pull holds it."""
    _local_people("Kim", "Park", date(2001, 1, 1), 2)
    sandbox.add_person(first_name="Kim", last_name="Park", birthdate="2001-01-01")


def _last_line(result: Any) -> str:
    return str(result.output.strip().splitlines()[-1])


def test_a_run_where_every_record_went_through_exits_0(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    result = sandbox_cli()("sync", "people")
    assert result.exit_code == 0, result.output
    assert _last_line(result).startswith("pull people succeeded: 6 created")


def test_skipped_records_do_not_change_the_exit_code(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    sandbox.add_person(first_name="", last_name="")  # no name: the pull leaves it, on purpose
    result = sandbox_cli()("sync", "people")
    assert result.exit_code == 0, result.output
    assert (recent_runs()[0].skipped, recent_runs()[0].failed) == (1, 0)


def test_a_pull_that_held_a_match_exits_4_and_points_to_the_issues(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    pco = sandbox_cli()
    _held_match(sandbox)
    result = pco("sync", "people")
    assert result.exit_code == 4, result.output
    (run,) = recent_runs()
    assert (run.status, run.held) == ("succeeded", 1)
    assert "1 held" in result.output.splitlines()[0]  # the summary line
    assert _last_line(result) == (
        f"Error: run {run.id} finished, but left 1 record: 0 failed, 1 held; "
        "`flask pco issues` says which and why"
    )


def test_a_full_run_exits_4_for_a_record_one_of_its_steps_held(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    pco = sandbox_cli()
    _held_match(sandbox)
    result = pco("sync", "full")
    assert result.exit_code == 4, result.output
    (run,) = recent_runs()  # the parent run: its steps' counts add up on it
    assert (run.sync_type, run.held) == ("full", 1)
    assert _last_line(result).startswith(f"Error: run {run.id} finished, but left 1 record")


def test_a_push_pco_refused_a_record_of_exits_4(sandbox_cli: Any, sandbox: SandboxControl) -> None:
    pco = sandbox_cli()
    _local_people("", "Nameless", date(1990, 5, 17), 1)  # PCO refuses a person without a name
    _local_people("Dana", "Newcomer", date(1990, 5, 17), 1)
    result = pco("push", "people")
    assert result.exit_code == 4, result.output
    (run,) = recent_runs()
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 1)
    assert "0 failed" not in result.output and "1 failed" in result.output.splitlines()[0]
    assert "left 1 record: 1 failed, 0 held; `flask pco issues`" in _last_line(result)


def test_the_records_a_run_left_are_listed_by_issues(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    pco = sandbox_cli()
    _held_match(sandbox)
    pco("sync", "people")
    out = pco("issues").output
    assert "Kim Park" in out, out


def test_a_failed_run_exits_1(sandbox_cli: Any, sandbox: SandboxControl) -> None:
    result = sandbox_cli(PCO_SECRET="wrong")("sync", "people")
    assert result.exit_code == 1, result.output
    assert _last_line(result).startswith(f"Error: run {recent_runs()[0].id} failed")
