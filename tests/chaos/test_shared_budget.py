"""Reduced shared-budget run (bench/budget.py): 4 workers, 2 organisations, nothing refused."""

from __future__ import annotations

import pytest

from bench.budget import shared_budget


@pytest.fixture(scope="module")
def organisations(redis_url_module: str):
    return shared_budget(10, 8, limit=20, period=2, redis_url=redis_url_module)


def test_no_job_fails_under_a_shared_budget(organisations) -> None:
    assert [r.failed_work for r in organisations] == [0, 0]


def test_each_organisation_stays_inside_its_own_budget(organisations) -> None:
    assert [r.other_errors for r in organisations] == [0, 0]
    # The workers space their requests inside the window with a safety margin. A machine that
    # stalls one request in flight for longer than that margin can still earn a 429 (real PCO
    # would answer the same); the client waits it out, so it must stay rare and cost no work.
    assert all(r.refused <= max(1, r.requests // 50) for r in organisations)
    # both did real work, each on its own credential's window
    assert all(r.requests > r.limit for r in organisations)
