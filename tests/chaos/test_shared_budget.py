"""Reduced shared-budget run (bench/budget.py): 4 workers, 2 organisations, nothing refused."""

from __future__ import annotations

import pytest

from bench.budget import shared_budget


@pytest.fixture(scope="module")
def organisations(redis_url_module: str):
    return shared_budget(20, 15, limit=20, period=2, redis_url=redis_url_module)


def test_no_job_fails_under_a_shared_budget(organisations) -> None:
    assert [r.failed_work for r in organisations] == [0, 0]


def test_each_organisation_stays_inside_its_own_budget(organisations) -> None:
    assert [(r.refused, r.other_errors) for r in organisations] == [(0, 0), (0, 0)]
    # both did real work, each on its own credential's window
    assert all(r.requests > r.limit for r in organisations)
