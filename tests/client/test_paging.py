"""Listings: following links.next, includes, skipped records, windowing past deep offsets."""

from __future__ import annotations

import tracemalloc
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from flask_pco.client import PcoClient

from .conftest import BASE, add, example

PEOPLE = "/people/v2/people"


def _add_example_pages(mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", PEOPLE, example("people_list_page1"), match=[_offset(None)])
    add(mocked, "GET", PEOPLE, example("people_list_last_page"), match=[_offset("2")])


def _offset(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        got = parse_qs(urlsplit(request.url).query).get("offset", [None])[0]
        return got == value, f"offset {got} != {value}"

    return match


def test_paging_follows_links_next_and_stops_at_the_last_page(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    _add_example_pages(mocked)
    pages = list(pco.pages(PEOPLE, include=("emails", "phone_numbers"), per_page=2))
    assert [p.next_url is None for p in pages] == [False, True]
    assert len(mocked.calls) == 2


def test_following_links_next_keeps_pco_s_reserialised_query(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    _add_example_pages(mocked)
    list(pco.pages(PEOPLE, per_page=2))
    second = parse_qs(urlsplit(mocked.calls[1].request.url).query)
    assert second["where[updated_at][gte]"] == ["2025-03-01T00:00:00Z"]
    assert second["include"] == ["emails,phone_numbers"]


def test_iterate_yields_every_record_in_order(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    _add_example_pages(mocked)
    assert [r.id for r in pco.iterate(PEOPLE)] == ["90000101", "90000102", "90000103"]


def test_includes_resolve_through_the_page(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    _add_example_pages(mocked)
    page = next(iter(pco.pages(PEOPLE, include=("emails", "phone_numbers"))))
    person = page.data[0]
    assert [e.get("address") for e in page.related(person, "emails")] == [
        "avery.example@example.org"
    ]
    assert page.related(person, "phone_numbers")[0].type == "PhoneNumber"


def test_a_bad_record_is_skipped_and_the_rest_of_the_page_yielded(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    body = example("people_list_last_page")
    body["data"] = [{"type": "Person", "attributes": {}}, *body["data"]]
    add(mocked, "GET", PEOPLE, body)
    records = pco.iterate(PEOPLE)
    assert [r.id for r in records] == ["90000103"]
    assert len(records.skipped) == 1
    assert "data[0]" in str(records.skipped[0])


def test_pages_expose_the_skipped_records(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", PEOPLE, {"data": [{"id": "1"}, {"type": "Person", "id": "2"}]})
    (page,) = pco.pages(PEOPLE)
    assert [r.id for r in page.data] == ["2"]
    assert "no string 'type'" in str(page.skipped[0])


def _person(id_: int, updated_at: str) -> dict[str, Any]:
    return {"type": "Person", "id": str(id_), "attributes": {"updated_at": updated_at}}


def _page(records: list[dict[str, Any]], next_offset: int | None) -> dict[str, Any]:
    links = {}
    if next_offset is not None:
        links["next"] = f"{BASE}{PEOPLE}?offset={next_offset}&order=updated_at&per_page=2"
    return {"data": records, "links": links, "meta": {}}


def _windowed(mocked: responses.RequestsMock) -> None:
    """Offsets 0, 2, then a deep link at 4: the paginator must restart instead."""
    first = [_person(1, "2025-01-01T00:00:00Z"), _person(2, "2025-01-02T00:00:00Z")]
    second = [_person(3, "2025-01-03T00:00:00Z"), _person(4, "2025-01-03T00:00:00Z")]
    restarted = [_person(3, "2025-01-03T00:00:00Z"), _person(4, "2025-01-03T00:00:00Z")]
    restarted += [_person(5, "2025-01-03T00:00:00Z"), _person(6, "2025-01-04T00:00:00Z")]
    add(mocked, "GET", PEOPLE, _page(first, 2), match=[_offset(None), _gte(None)])
    add(mocked, "GET", PEOPLE, _page(second, 4), match=[_offset("2")])
    add(mocked, "GET", PEOPLE, _page(restarted, None), match=[_gte("2025-01-03T00:00:00Z")])


def _gte(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        got = parse_qs(urlsplit(request.url).query).get("where[updated_at][gte]", [None])[0]
        return got == value, f"gte {got} != {value}"

    return match


def test_deep_offsets_restart_the_listing_at_the_last_updated_at(
    fake_time: Any, mocked: responses.RequestsMock
) -> None:
    from flask_pco.client.paging import Paginator, render_query

    from .conftest import make_client

    _windowed(mocked)
    with make_client(fake_time) as client:
        paginator = Paginator(
            client.get, PEOPLE, render_query(per_page=2, order="updated_at"), deep_offset=3
        )
        ids = [r.id for page in paginator for r in page.data]
    assert ids == ["1", "2", "3", "4", "5", "6"]
    assert paginator.windows == 1


def test_without_an_updated_at_order_deep_links_are_followed(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    from flask_pco.client.paging import Paginator, render_query

    add(mocked, "GET", PEOPLE, _page([_person(1, "2025-01-01T00:00:00Z")], 40_000))
    add(
        mocked,
        "GET",
        PEOPLE,
        _page([_person(2, "2025-01-02T00:00:00Z")], None),
        match=[_offset("40000")],
    )
    paginator = Paginator(pco.get, PEOPLE, render_query(per_page=1))
    assert [r.id for page in paginator for r in page.data] == ["1", "2"]
    assert paginator.windows == 0


def test_paging_memory_stays_flat_however_many_pages() -> None:
    from flask_pco.client import parse_document
    from flask_pco.client.paging import Paginator

    records = [_person(i, "2025-01-01T00:00:00Z") for i in range(100)]

    def fetch(url: str, query: Any) -> Any:
        offset = int(parse_qs(urlsplit(url).query).get("offset", ["0"])[0])
        return parse_document(_page(records, offset + 100 if offset < 99_900 else None))

    pages = iter(Paginator(fetch, PEOPLE, {"per_page": "100"}))
    tracemalloc.start()
    for _ in range(10):
        next(pages)
    baseline = tracemalloc.get_traced_memory()[0]
    count = 10 + sum(1 for _ in pages)
    grown = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    assert count == 1000
    assert grown < 200_000


def _page_with_total(mocked: responses.RequestsMock, total: Any) -> None:
    document = example("people_list_last_page")
    document["meta"]["total_count"] = total
    add(mocked, "GET", PEOPLE, document)


def test_a_listing_s_total_count_sizes_its_progress(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    _page_with_total(mocked, 1234)
    assert next(iter(pco.pages(PEOPLE))).total_count == 1234


@pytest.mark.parametrize("total", [10**30, 10_000_001, -1, 12.5, "12", True, None, [3]])
def test_a_total_count_no_listing_could_hold_is_unknown(
    pco: PcoClient, mocked: responses.RequestsMock, total: Any
) -> None:
    _page_with_total(mocked, total)
    assert next(iter(pco.pages(PEOPLE))).total_count is None
