"""Chaos tests drive the scenarios in bench/ at reduced sizes; each builds its own sandbox
processes, databases and workers, so they need only Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib

from tests.conftest import REDIS_TEST_URL


@pytest.fixture(scope="module")
def redis_url_module() -> Iterator[str]:
    """The test Redis database, emptied before and after a module's shared scenario."""
    connection = redis_lib.Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()
