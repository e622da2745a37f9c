"""Reduced self-healing chaos (bench/chaos_heal.py): PCO merges in every order, group membership
churn and a webhook outage that makes the sandbox deactivate the subscriptions, then the hourly
housekeeping; the site ends equal to a fresh full pull, with no duplicate person and the merged
people's allergies on their survivors."""

from __future__ import annotations

import pytest

from bench.chaos_heal import heal_chaos


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_merges_churn_and_an_outage_end_equal_to_a_fresh_pull(database: str) -> None:
    result = heal_chaos(people=30, database=database, seed=2, churn=5)

    assert result.differences == {}
    assert result.duplicates == 0
    assert result.allergies_lost == []
    assert result.deactivated > 0 and result.repaired == result.deactivated
    assert result.merges_applied == result.merges - 1  # the one whose kept profile was unknown


def test_without_the_subscription_repair_the_site_does_not_converge() -> None:
    result = heal_chaos(people=30, database="sqlite", seed=2, churn=5, repair=False)

    assert result.repaired == 0
    assert not result.ok
