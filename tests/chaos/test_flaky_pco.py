"""Reduced flaky-PCO run (bench/chaos_flaky.py): 500s, timeouts, lost answers and 429 storms
change nothing."""

from __future__ import annotations

from bench.chaos_flaky import Faults, flaky_pco
from bench.common import duplicates

FAULTS = Faults(
    error_rate=0.05, timeout_rate=0.02, lost_answer_rate=0.05, storm_every=4, storm_seconds=1
)


def test_full_pull_and_push_under_faults_end_like_a_clean_run(redis_url: str) -> None:
    result = flaky_pco(40, 40, faults=FAULTS, redis_url=redis_url)

    assert len(result.flaky.local) == len(result.clean.local) == 80
    assert duplicates(result.flaky.remote) == 0
    assert result.flaky.broken_links == 0
    assert result.identical
