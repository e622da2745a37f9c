"""Reduced kill-anywhere run (bench/chaos_kill.py): SIGKILLed workers lose and duplicate nothing."""

from __future__ import annotations

from bench.chaos_kill import kill_anywhere


def test_push_through_killed_workers_ends_like_a_clean_push(redis_url: str) -> None:
    result = kill_anywhere(
        60, 3, seed=3, latency_ms=60, max_delay=0.8, redis_url=redis_url, grace=3
    )

    assert result.kills_mid_run >= 1
    assert result.pco_people == result.local_people == 60
    assert result.duplicates == 0
    assert result.unlinked == 0
    assert result.identical_to_clean
