"""Lookahead: the page after next is fetched beside the next one, and only used if it is the
page PCO's next link names."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

from flask_pco.client import PcoClient
from flask_pco.client.paging import Paginator, render_query

from .conftest import BASE, RATE_HEADERS, FakeTime, make_client

PEOPLE = "/people/v2/people"
PER_PAGE = 2


class Listing:
    """A PCO listing of ``size`` people served from ``offset``/``per_page``, each answer held
    a moment so that requests in flight at once can be counted."""

    def __init__(self, size: int, *, total: bool = True, step: int = PER_PAGE) -> None:
        self.size, self.total, self.step = size, total, step
        self.offsets: list[int] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        offset = int(query.get("offset", ["0"])[0])
        since = query.get("where[created_at][gte]", [""])[0]
        with self._lock:
            self.offsets.append(offset)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.02)
        with self._lock:
            self.in_flight -= 1
        return 200, RATE_HEADERS, json.dumps(self.page(offset, since))

    def page(self, offset: int, since: str) -> dict[str, Any]:
        people = [p for p in map(_person, range(1, self.size + 1)) if _created(p) >= since]
        links, meta = {}, {"total_count": len(people)} if self.total else {}
        if offset + PER_PAGE < len(people):
            query = {"offset": offset + self.step, "order": "created_at", "per_page": PER_PAGE}
            query |= {"where[created_at][gte]": since} if since else {}
            links["next"] = f"{BASE}{PEOPLE}?{urlencode(query)}"  # PCO keeps the query
        return {"data": people[offset : offset + PER_PAGE], "links": links, "meta": meta}


def _person(number: int) -> dict[str, Any]:
    created = f"2025-01-01T00:00:{number:02d}Z"
    return {"type": "Person", "id": str(number), "attributes": {"created_at": created}}


def _created(person: dict[str, Any]) -> str:
    return str(person["attributes"]["created_at"])


@pytest.fixture
def serve(mocked: responses.RequestsMock) -> Callable[..., Listing]:
    def serve(size: int, **options: Any) -> Listing:
        listing = Listing(size, **options)
        mocked.add_callback("GET", BASE + PEOPLE, callback=listing)
        return listing

    return serve


def _ids(pco: PcoClient, *, lookahead: bool = True) -> list[str]:
    pages = pco.pages(PEOPLE, order="created_at", per_page=PER_PAGE, lookahead=lookahead)
    return [record.id for page in pages for record in page.data]


def test_a_listing_read_with_lookahead_yields_every_record_in_order(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    serve(9)
    assert _ids(pco) == [str(i) for i in range(1, 10)]


def test_the_page_after_next_is_fetched_beside_the_next_one(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    listing = serve(9)
    _ids(pco)
    assert listing.most_in_flight == 2


def test_without_lookahead_one_page_is_fetched_at_a_time(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    listing = serve(9)
    _ids(pco, lookahead=False)
    assert listing.most_in_flight == 1


def test_no_page_is_guessed_past_the_total_count(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    listing = serve(9)
    _ids(pco)
    assert sorted(listing.offsets) == [0, 2, 4, 6, 8]


def test_without_a_total_count_no_page_is_guessed(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    listing = serve(9, total=False)
    assert _ids(pco) == [str(i) for i in range(1, 10)]
    assert listing.offsets == [0, 2, 4, 6, 8]
    assert listing.most_in_flight == 1


def test_a_guess_the_next_link_does_not_name_is_dropped_for_the_linked_page(
    pco: PcoClient, serve: Callable[..., Listing]
) -> None:
    listing = serve(12, step=3)  # PCO's links move 3 on, not per_page: every guess is wrong
    assert _ids(pco) == ["1", "2", "4", "5", "7", "8", "10", "11"]
    read = [0, 3, 6, 9]
    assert [o for o in listing.offsets if o in read] == read
    assert len(listing.offsets) <= 2 * len(read)  # a wrong guess costs one request at most


def test_no_page_is_guessed_past_a_deep_offset_restart(
    fake_time: FakeTime, serve: Callable[..., Listing]
) -> None:
    listing = serve(9)
    with make_client(fake_time) as client:
        query = render_query(per_page=PER_PAGE, order="created_at")
        pages = Paginator(client.get, PEOPLE, query, deep_offset=3, lookahead=True)
        ids = [record.id for page in pages for record in page.data]
    assert ids == [str(i) for i in range(1, 10)]
    assert pages.windows >= 1  # each next link to offset 4 restarts the listing instead
    assert set(listing.offsets) == {0, 2}
