"""`--list` and `--group`: only on the pull that takes them, only PCO ids, and an id PCO does not
have fails the run, naming it. Bad input is one line, exit code 1, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from flask_pco.jobs.queue import recent_runs
from flask_pco.sandbox.testing import SandboxControl

from .test_cli import assert_one_line_error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sync", "full", "--list", "5"), "--list only goes with `sync people`, not `sync full`"),
        (
            ("sync", "groups", "--list", "5"),
            "--list only goes with `sync people`, not `sync groups`",
        ),
        (
            ("sync", "people", "--group", "5"),
            "--group only goes with `sync groups`, not `sync people`",
        ),
        (("sync", "full", "--group", "5"), "--group only goes with `sync groups`, not `sync full`"),
    ],
)
def test_a_selective_option_on_a_sync_that_does_not_take_it_is_refused(
    sandbox_cli: Any, sandbox: SandboxControl, args: tuple[str, ...], message: str
) -> None:
    result = sandbox_cli()(*args)
    assert_one_line_error(result, message)
    assert recent_runs() == []
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--list", "abc"), "--list 'abc' is not a PCO list id (digits, not starting with 0)"),
        (
            ("--list", "../../x"),
            "--list '../../x' is not a PCO list id (digits, not starting with 0)",
        ),
        (
            ("--list", "12", "--list", ""),
            "--list '' is not a PCO list id (digits, not starting with 0)",
        ),
        (("--group", "-1"), "--group '-1' is not a PCO group id (digits, not starting with 0)"),
        (
            ("--group", "4%2F2"),
            "--group '4%2F2' is not a PCO group id (digits, not starting with 0)",
        ),
        (("--group", ""), "--group '' is not a PCO group id (digits, not starting with 0)"),
        (("--group", "0"), "--group '0' is not a PCO group id (digits, not starting with 0)"),
        (("--list", "007"), "--list '007' is not a PCO list id (digits, not starting with 0)"),
    ],
)
def test_an_id_that_is_not_a_pco_id_is_refused_before_any_request(
    sandbox_cli: Any, sandbox: SandboxControl, args: tuple[str, ...], message: str
) -> None:
    sync_type = "people" if args[0] == "--list" else "groups"
    result = sandbox_cli()("sync", sync_type, *args)
    assert_one_line_error(result, message)
    assert recent_runs() == []
    assert sandbox.requests() == []


def test_list_ids_may_be_separated_by_commas(cli_app: Any, redis_url: str) -> None:
    from .conftest import cli

    pco = cli(cli_app(PCO_REDIS_URL=redis_url))
    result = pco("sync", "people", "--list", "7, 9", "--list", "11", "--enqueue")
    assert result.exit_code == 0, result.output
    assert recent_runs()[0].options == {"list_ids": ["7", "9", "11"]}


def test_a_list_pco_does_not_have_fails_the_run_naming_it(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    list_id = sandbox.state()["records"]["List"][0]["id"]
    result = sandbox_cli()("sync", "people", "--list", list_id, "--list", "999999")
    assert result.exit_code == 1, result.output
    (run,) = recent_runs()
    assert (run.status, run.error_message) == ("failed", "PCO list 999999 does not exist")
    assert result.output.strip().splitlines()[-1] == (
        f"Error: run {run.id} failed: PCO list 999999 does not exist"
    )


def test_a_group_pco_does_not_have_fails_the_run_naming_it(
    sandbox_cli: Any, sandbox: SandboxControl
) -> None:
    result = sandbox_cli()("sync", "groups", "--group", "424242")
    assert result.exit_code == 1, result.output
    (run,) = recent_runs()
    assert result.output.strip().splitlines()[-1] == (
        f"Error: run {run.id} failed: PCO group 424242 does not exist"
    )
