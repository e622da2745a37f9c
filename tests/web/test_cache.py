"""The read-only views' small TTL cache (cachetools' TTLCache, shared by threads)."""

from __future__ import annotations

import pytest

from flask_pco.web.readonly import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def loader(results: list[str]):  # type: ignore[no-untyped-def]
    def load() -> str:
        results.append("loaded")
        return f"value {len(results)}"

    return load


def test_an_entry_is_reused_until_it_expires() -> None:
    clock, loads = Clock(), []
    cache = TtlCache(60, clock=clock)
    assert cache.get_or_load("k", loader(loads)) == "value 1"
    clock.now += 59
    assert cache.get_or_load("k", loader(loads)) == "value 1"
    clock.now += 2
    assert cache.get_or_load("k", loader(loads)) == "value 2"


def test_a_zero_ttl_never_caches() -> None:
    loads: list[str] = []
    cache = TtlCache(0, clock=Clock())
    cache.get_or_load("k", loader(loads))
    cache.get_or_load("k", loader(loads))
    assert len(loads) == 2


def test_the_oldest_entry_goes_when_the_cache_is_full() -> None:
    loads: list[str] = []
    cache = TtlCache(60, clock=Clock(), max_entries=2)
    for key in ("a", "b", "c"):
        cache.get_or_load(key, loader(loads))
    cache.get_or_load("b", loader(loads))
    cache.get_or_load("a", loader(loads))
    assert len(loads) == 4  # only "a" was loaded again


def test_a_failed_load_is_not_cached() -> None:
    cache = TtlCache(60, clock=Clock())
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        raise RuntimeError("PCO down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get_or_load("k", failing)
    assert len(calls) == 2
