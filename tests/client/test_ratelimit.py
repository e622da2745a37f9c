"""The shared budget: header parsing, learning, blocking after a 429, precise waits, Redis."""

from __future__ import annotations

import time

import pytest
import redis
import responses

from flask_pco.client import RateInfo, RateLimiter, parse_rate_headers

from .conftest import FakeTime, add, example, make_client


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-PCO-API-Request-Rate-Limit": "100", "X-PCO-API-Request-Rate-Period": "20"},
            RateInfo(100, 20),
        ),
        (
            {
                "X-PCO-API-Request-Rate-Limit": "100",
                "X-PCO-API-Request-Rate-Period": "20 seconds",
                "X-PCO-API-Request-Rate-Count": "7",
            },
            RateInfo(100, 20, 7),
        ),
        ({"X-PCO-API-Request-Rate-Limit": "100"}, None),
        ({}, None),
    ],
)
def test_rate_headers_are_parsed(headers: dict[str, str], expected: RateInfo | None) -> None:
    assert parse_rate_headers(headers) == expected


def test_the_limiter_learns_the_budget_from_the_headers(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    headers = {"X-PCO-API-Request-Rate-Limit": "5", "X-PCO-API-Request-Rate-Period": "10 seconds"}
    add(mocked, "GET", "/people/v2", {"data": None}, headers=headers)
    with make_client(fake_time) as client:
        client.get("/people/v2")
        assert (client.limiter.limit, client.limiter.period) == (5, 10)


def test_a_learned_budget_makes_acquire_wait_for_the_window(fake_time: FakeTime) -> None:
    limiter = RateLimiter("learn", clock=fake_time.clock)
    limiter.learn(RateInfo(3, 20))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        raise StopIteration

    for _ in range(3):
        limiter.acquire(sleep)
    with pytest.raises(StopIteration):
        limiter.acquire(sleep)
    assert 20.0 < waits[0] <= 20.5  # the window plus its 2.5 % margin


def test_acquire_sleeps_only_until_the_oldest_request_leaves_the_window() -> None:
    limiter = RateLimiter("precise", limit=3, period=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    for _ in range(4):
        limiter.acquire(sleep)
    assert time.monotonic() - started >= 1.0  # the 4th waited for the 1st to leave the window
    assert 0 < sum(waits) <= 1.1  # and asked for about one window (plus its margin), no more


def test_a_block_makes_every_acquire_wait_it_out(fake_time: FakeTime) -> None:
    limiter = RateLimiter("blocked", clock=fake_time.clock)
    limiter.block(12.5)
    assert limiter.acquire(fake_time.sleep) == pytest.approx(12.5)


def test_a_block_never_shortens_an_earlier_longer_one(fake_time: FakeTime) -> None:
    limiter = RateLimiter("blocked", clock=fake_time.clock)
    limiter.block(30)
    limiter.block(5)
    assert limiter.blocked_for() == 30


def test_the_learned_budget_is_shared_through_redis(redis_url: str) -> None:
    first = RateLimiter("org", redis_url)
    second = RateLimiter("org", redis_url)
    try:
        first.learn(RateInfo(20, 2))
        second.acquire()
        assert (second.limit, second.period) == (20, 2)
    finally:
        first.close()
        second.close()


def test_a_block_is_shared_through_redis(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    try:
        RateLimiter("org", connection).block(3)
        assert 2 < RateLimiter("org", connection).blocked_for() <= 3
        assert RateLimiter("other-org", connection).blocked_for() == 0
    finally:
        connection.close()


def test_the_window_is_shared_through_redis(redis_url: str) -> None:
    first = RateLimiter("org", redis_url, limit=4, period=60)
    second = RateLimiter("org", redis_url, limit=4, period=60)
    try:
        for _ in range(4):
            first.acquire()
        assert second.window_stats()[1] == 0
    finally:
        first.close()
        second.close()


def test_learning_a_new_limit_keeps_the_requests_already_counted(redis_url: str) -> None:
    limiter = RateLimiter("org", redis_url, limit=100, period=20)
    try:
        for _ in range(5):
            limiter.acquire()
        limiter.learn(RateInfo(10, 20))
        assert limiter.window_stats()[1] == 5
    finally:
        limiter.close()


def test_a_429_response_teaches_and_blocks(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    headers = {
        "Retry-After": "4",
        "X-PCO-API-Request-Rate-Limit": "10",
        "X-PCO-API-Request-Rate-Period": "20 seconds",
    }
    add(mocked, "GET", "/people/v2", example("error_429_rate_limited"), status=429, headers=headers)
    add(mocked, "GET", "/people/v2", {"data": None})
    with make_client(fake_time) as client:
        client.get("/people/v2")
        assert client.limiter.limit == 100  # the success after the wait announced 100 again
    assert fake_time.sleeps == [4.0]


def test_an_unreachable_redis_is_a_retriable_transport_error() -> None:
    from flask_pco.exceptions import TransportError

    limiter = RateLimiter("org", "redis://127.0.0.1:1/0")
    try:
        with pytest.raises(
            TransportError, match="shared rate limit in Redis is unreachable"
        ) as caught:
            limiter.acquire()
        assert caught.value.retriable
    finally:
        limiter.close()


def test_an_answer_redis_cannot_count_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PCO has answered by then: a lost count must not turn the answer into a failure."""
    limiter = RateLimiter("org", "redis://127.0.0.1:1/0")
    try:
        limiter.tally("201")
    finally:
        limiter.close()

    assert "could not count a PCO answer in Redis" in caplog.text


def test_answers_received_elsewhere_join_the_shared_count(redis_url: str) -> None:
    first, second = RateLimiter("org", redis_url), RateLimiter("org", redis_url)
    try:
        first.tally("200")
        second.tally("200", 2)
        assert first.answers() == {"200": 3}
    finally:
        first.close()
        second.close()


def test_slow_round_trips_lengthen_the_window_margin_within_bounds() -> None:
    limiter = RateLimiter("margin", limit=20, period=2)
    assert limiter._margin() == 0.05
    limiter.observe(0.12)
    assert limiter._margin() == pytest.approx(0.15)
    limiter.observe(5.0)
    assert limiter._margin() == pytest.approx(0.2)  # never more than 10 % of the period


def test_a_429_seen_by_one_client_makes_another_process_s_client_wait(
    fake_time: FakeTime, mocked: responses.RequestsMock, redis_url: str
) -> None:
    add(
        mocked,
        "GET",
        "/people/v2",
        example("error_429_rate_limited"),
        status=429,
        headers={"Retry-After": "7"},
    )
    add(mocked, "GET", "/people/v2", {"data": None})
    other_time = FakeTime()
    other_time.now = fake_time.now
    first = make_client(fake_time, limiter=RateLimiter("org", redis_url, clock=fake_time.clock))
    second = make_client(other_time, limiter=RateLimiter("org", redis_url, clock=other_time.clock))
    with first, second:
        first.get("/people/v2")
        second.get("/people/v2")
    assert fake_time.sleeps == [7.0]
    assert other_time.sleeps == [pytest.approx(7.0)]


def test_room_for_a_burst_comes_when_enough_requests_have_left_the_window(
    redis_url: str,
) -> None:
    limiter = RateLimiter("burst", redis_url, limit=10, period=60)
    try:
        assert limiter.wait_for_room(10) == 0.0
        for _ in range(6):
            limiter.acquire()

        assert limiter.wait_for_room(4) == 0.0
        assert 0 < limiter.wait_for_room(5) <= 60 * 1.1  # the window and its margin
        whole_window = limiter.wait_for_room(10)  # asked first: time only shortens the next
        assert limiter.wait_for_room(5) <= whole_window
    finally:
        limiter.close()


def test_a_wait_for_the_budget_is_announced_before_the_sleep(fake_time: FakeTime) -> None:
    limiter = RateLimiter("announce", clock=fake_time.clock)
    limiter.learn(RateInfo(2, 20))
    announced: list[float] = []
    limiter.on_wait = announced.append

    def sleep(seconds: float) -> None:
        raise StopIteration

    for _ in range(2):
        limiter.acquire(sleep)
    assert announced == []
    with pytest.raises(StopIteration):
        limiter.acquire(sleep)
    assert len(announced) == 1 and announced[0] > 19
