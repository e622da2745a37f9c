"""Fixtures for the client's unit tests: a fake clock, PCO's example documents, a mocked PCO."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from flask_pco.client import BasicAuth, PcoClient, RateLimiter

BASE = "https://api.planningcenteronline.com"
EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "pco_examples"
RATE_HEADERS = {
    "X-PCO-API-Request-Rate-Limit": "100",
    "X-PCO-API-Request-Rate-Period": "20",
    "X-PCO-API-Request-Rate-Count": "1",
}


def example(name: str) -> Any:
    """One of PCO's example documents (synthetic data, real shapes)."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class FakeTime:
    """A clock that moves only when something sleeps, so waits are asserted, never slept."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_client(fake_time: FakeTime, **options: Any) -> PcoClient:
    options.setdefault("auth", BasicAuth("app-id", "app-secret"))
    options.setdefault("limiter", RateLimiter("test-org", clock=fake_time.clock))
    return PcoClient(BASE, sleep=fake_time.sleep, clock=fake_time.clock, **options)


@pytest.fixture
def pco(fake_time: FakeTime, mocked: responses.RequestsMock) -> Iterator[PcoClient]:
    """A client on a mocked PCO, with a fake clock and an in-memory limiter."""
    with make_client(fake_time) as client:
        yield client


def add(
    mocked: responses.RequestsMock,
    method: str,
    path: str,
    body: Any = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> None:
    """Register one PCO answer (with the usual rate headers) for ``path`` under ``BASE``."""
    url = path if path.startswith("http") else BASE + path
    mocked.add(
        method,
        url,
        json=body,
        status=status,
        headers={**RATE_HEADERS, **(headers or {})},
        **kwargs,
    )
