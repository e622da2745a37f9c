"""Log records of a run carry its run id and organisation as structured fields."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from flask_pco.logfields import log_context
from flask_pco.sandbox.testing import SandboxControl


def test_a_runs_records_carry_its_run_id_and_organisation(
    sandbox: SandboxControl, state: Any, run_sync: Callable[..., Any], caplog: Any
) -> None:
    sandbox.reset(people=3, seed=2)
    with caplog.at_level(logging.DEBUG, logger="flask_pco"):
        run = run_sync("pull", "people")
    requests = [r for r in caplog.records if r.name == "flask_pco.client" and "->" in r.message]
    assert requests
    assert {(r.pco_run_id, r.pco_organization) for r in requests} == {
        (run.id, state.organization_key())
    }


def test_outside_a_run_the_fields_are_empty(state: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="flask_pco"):
        logging.getLogger("flask_pco.sync").info("between runs")
    [record] = caplog.records
    assert (record.pco_run_id, record.pco_organization) == (None, "")


@pytest.mark.parametrize("name", ["rq.worker", "flask_pcox", "app"])
def test_other_loggers_records_are_left_alone(state: Any, caplog: Any, name: str) -> None:
    with caplog.at_level(logging.INFO, logger=name), log_context(7, "org-1"):
        logging.getLogger(name).info("not ours")
    [record] = caplog.records
    assert not hasattr(record, "pco_run_id")
