"""The read-only views' small TTL cache."""

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
    cache = TtlCache(clock=clock)
    assert cache.get_or_load("k", 60, loader(loads)) == "value 1"
    clock.now += 59
    assert cache.get_or_load("k", 60, loader(loads)) == "value 1"
    clock.now += 2
    assert cache.get_or_load("k", 60, loader(loads)) == "value 2"


def test_a_zero_ttl_never_caches() -> None:
    loads: list[str] = []
    cache = TtlCache(clock=Clock())
    cache.get_or_load("k", 0, loader(loads))
    cache.get_or_load("k", 0, loader(loads))
    assert len(loads) == 2


def test_the_oldest_entry_goes_when_the_cache_is_full() -> None:
    loads: list[str] = []
    cache = TtlCache(clock=Clock(), max_entries=2)
    for key in ("a", "b", "c"):
        cache.get_or_load(key, 60, loader(loads))
    cache.get_or_load("b", 60, loader(loads))
    cache.get_or_load("a", 60, loader(loads))
    assert len(loads) == 4  # only "a" was loaded again


def test_a_failed_load_is_not_cached() -> None:
    cache = TtlCache(clock=Clock())
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        raise RuntimeError("PCO down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get_or_load("k", 60, failing)
    assert len(calls) == 2
