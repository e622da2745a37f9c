"""Reduced hardening chaos (bench/chaos_harden.py): a Redis outage mid-run, PostgreSQL
connections killed, a page with records no column holds, webhook re-fetches answered out of
order and planted secrets; the end state equals a clean run's, and nothing leaks."""

from __future__ import annotations

import pytest

from bench.chaos_harden import harden_chaos


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_chaos_ends_like_a_clean_run_with_every_bad_record_named_and_nothing_leaked(
    database: str,
) -> None:
    result = harden_chaos(people=30, database=database, outage=1.0, edited=2)

    assert result.equal_to_clean, result.differences
    assert result.runs[-1].startswith("succeeded"), result.runs
    assert result.bad_records_named == result.bad_records == 2
    assert not any(status >= 500 for status in result.webhook_statuses), result.webhook_statuses
    assert result.webhook_people_at_latest == result.webhook_people > 0
    assert result.leaks == []
    if database == "postgresql":
        assert result.connections_killed > 0
