"""`flask pco health`: the state and its reasons, exit 0 only when healthy (for cron and
monitoring)."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import make_issue, make_run


def test_healthy_exits_0(pco: Any) -> None:
    make_run("succeeded", direction="pull", sync_type="people")

    result = pco("health")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("health: healthy\n")
    assert "last successful pull (UTC): 20" in result.output


def test_a_failed_run_exits_1_and_says_why(pco: Any) -> None:
    make_run("failed", direction="pull", sync_type="people", error_message="PCO answered 500")

    result = pco("health")

    assert result.exit_code == 1
    assert "health: failing" in result.output
    assert "the last pull (people, run 1) failed: PCO answered 500" in result.output


def test_records_left_behind_exit_1_with_their_group(pco: Any) -> None:
    run = make_run("succeeded", direction="push", sync_type="people")
    for n in range(3):
        make_issue(kind="refused", run_id=run.id, pco_id=str(70 + n), candidates=[],
                   reason=f"email {n}@x is invalid")  # fmt: skip

    result = pco("health")

    assert result.exit_code == 1
    assert "health: degraded" in result.output
    assert "push people: 3 Person records refused: email #@x is invalid" in result.output
    assert "records: 70, 71, 72" in result.output
