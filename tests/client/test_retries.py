"""Retries and 429s: what is tried again, how long the client waits (asserted, never slept)."""

from __future__ import annotations

import pytest
import requests
import responses

from flask_pco.client import PcoClient
from flask_pco.exceptions import RateLimitError, ServerError, TransportError

from .conftest import BASE, FakeTime, add, example, make_client

PATH = "/people/v2/people/1"
LIMITED = {"Retry-After": "19", "X-PCO-API-Request-Rate-Count": "118"}


def test_get_retries_a_503_then_succeeds(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(mocked, "GET", PATH, {"errors": []}, status=503)
    add(mocked, "GET", PATH, example("person_show"))
    assert pco.get(PATH).data[0].id == "90000101"
    assert pco.request_count == 2
    assert len(fake_time.sleeps) == 1
    assert 0.5 <= fake_time.sleeps[0] <= 1.0


def test_get_retries_a_timeout_then_succeeds(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    mocked.add("GET", f"{BASE}{PATH}", body=requests.ReadTimeout("slow"))
    add(mocked, "GET", PATH, example("person_show"))
    assert pco.get(PATH).data[0].id == "90000101"


def test_get_backoff_grows_exponentially_and_is_capped(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(mocked, "GET", PATH, {"errors": []}, status=502)
    with pytest.raises(ServerError):
        pco.get(PATH)
    assert pco.request_count == 5
    lower = [0.5, 1.0, 2.0, 4.0]
    assert all(lo <= got <= lo + 0.5 for lo, got in zip(lower, fake_time.sleeps, strict=True))


def test_get_gives_up_on_persistent_transport_errors(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    mocked.add("GET", f"{BASE}{PATH}", body=requests.ConnectionError("refused"))
    with pytest.raises(TransportError):
        pco.get(PATH)
    assert pco.request_count == 5


def test_post_is_not_retried_on_a_5xx(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(mocked, "POST", "/people/v2/people", {"errors": []}, status=503)
    with pytest.raises(ServerError):
        pco.create("/people/v2/people", "Person", {"first_name": "A"})
    assert pco.request_count == 1
    assert fake_time.sleeps == []


def test_patch_is_not_retried_on_a_timeout(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    mocked.add("PATCH", f"{BASE}{PATH}", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError):
        pco.update(PATH, "Person", "1", {"first_name": "A"})
    assert pco.request_count == 1


def test_a_404_is_not_retried(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", PATH, example("error_404_not_found"), status=404)
    with pytest.raises(Exception, match="404"):
        pco.get(PATH)
    assert pco.request_count == 1


def test_a_429_waits_retry_after_then_succeeds(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(mocked, "GET", PATH, example("error_429_rate_limited"), status=429, headers=LIMITED)
    add(mocked, "GET", PATH, example("person_show"))
    assert pco.get(PATH).data[0].id == "90000101"
    assert fake_time.sleeps == [19.0]
    assert pco.request_count == 2


def test_a_429_on_post_is_retried(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(
        mocked,
        "POST",
        "/people/v2/people",
        example("error_429_rate_limited"),
        status=429,
        headers=LIMITED,
    )
    add(mocked, "POST", "/people/v2/people", example("person_create_response_201"), status=201)
    assert pco.create("/people/v2/people", "Person", {"first_name": "Dana"}).id == "90000104"
    assert fake_time.sleeps == [19.0]


def test_a_429_blocks_the_shared_limiter_for_retry_after(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(
        mocked,
        "GET",
        PATH,
        example("error_429_rate_limited"),
        status=429,
        headers={"Retry-After": "7"},
    )
    add(mocked, "GET", PATH, example("person_show"))
    observed: list[float] = []
    real_sleep = fake_time.sleep

    def sleep(seconds: float) -> None:
        observed.append(pco.limiter.blocked_for())
        real_sleep(seconds)

    pco._sleep = sleep
    pco.get(PATH)
    assert observed == [7.0]


def test_a_429_without_retry_after_waits_one_second(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    add(mocked, "GET", PATH, example("error_429_rate_limited"), status=429)
    add(mocked, "GET", PATH, example("person_show"))
    pco.get(PATH)
    assert fake_time.sleeps == [1.0]


def test_429s_are_retried_until_a_generous_total_then_raise(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", PATH, example("error_429_rate_limited"), status=429, headers=LIMITED)
    with (
        make_client(fake_time, max_rate_limit_wait=100.0) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.get(PATH)
    assert caught.value.retry_after == 19.0
    assert fake_time.sleeps == [19.0] * 5


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("2.5", 2.5),
        ("nan", 1.0),
        ("inf", 1.0),
        ("-inf", 1.0),
        ("1e400", 1.0),
        ("-5", 1.0),
        ("soon", 1.0),
        ("9" * 5000, 1.0),
        ("Mon, 32 Foo 2025 25:61:61 GMT", 1.0),
        ("600", 120.0),
        ("1e9", 120.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 120.0),
    ],
)
def test_an_unusable_retry_after_waits_one_second_and_a_huge_one_is_capped(
    pco: PcoClient, mocked: responses.RequestsMock, fake_time: FakeTime, header: str, wait: float
) -> None:
    limited = {"Retry-After": header}
    add(mocked, "GET", PATH, example("error_429_rate_limited"), status=429, headers=limited)
    add(mocked, "GET", PATH, example("person_show"))
    assert pco.get(PATH).data[0].id == "90000101"
    assert fake_time.sleeps == [wait]
