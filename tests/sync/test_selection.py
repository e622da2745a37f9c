"""Selective options are checked before a run exists: the right pull, PCO ids only."""

from __future__ import annotations

from typing import Any

import pytest

from flask_pco.exceptions import ConfigError
from flask_pco.jobs.queue import recent_runs, start_sync
from flask_pco.sync.selection import check_selection


def test_list_ids_become_a_list_of_id_strings() -> None:
    options = {"list_ids": [12, "13,14", " 15 "], "records": 3}
    assert check_selection("pull", "people", options) == {
        "list_ids": ["12", "13", "14", "15"],
        "records": 3,
    }


def test_a_group_id_becomes_one_id_string() -> None:
    assert check_selection("pull", "groups", {"group_id": 42}) == {"group_id": "42"}


def test_options_without_ids_pass_unchanged() -> None:
    assert check_selection("push", "full", {"ticks": 2, "group_id": None}) == {"ticks": 2}


@pytest.mark.parametrize(
    ("direction", "sync_type", "options", "message"),
    [
        (
            "push",
            "people",
            {"list_ids": ["5"]},
            "--list only goes with `sync people`, not `push people`",
        ),
        (
            "pull",
            "full",
            {"group_id": "5"},
            "--group only goes with `sync groups`, not `sync full`",
        ),
        ("pull", "people", {"list_ids": []}, "--list needs a PCO list id"),
        ("pull", "people", {"list_ids": ["١٢"]}, "--list '١٢' is not a PCO list id"),
        ("pull", "people", {"list_ids": ["0"]}, "--list '0' is not a PCO list id"),
        ("pull", "people", {"list_ids": ["007"]}, "--list '007' is not a PCO list id"),
        ("pull", "groups", {"group_id": "9" * 20}, f"--group '{'9' * 20}' is not a PCO group id"),
        ("pull", "groups", {"group_id": "1,2"}, "--group takes one PCO group id, got 2"),
    ],
)
def test_bad_selections_are_refused_with_one_line(
    direction: str, sync_type: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        check_selection(direction, sync_type, options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_start_sync_refuses_a_bad_selection_before_a_run_exists(app: Any) -> None:
    with pytest.raises(ConfigError, match="--list only goes with `sync people`"):
        start_sync("pull", "full", options={"list_ids": ["5"]}, mode="inline")
    assert recent_runs() == []
