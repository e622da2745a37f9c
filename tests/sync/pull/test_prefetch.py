"""A pull fetches the next page while it writes the current one, without changing what it sees."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from flask_pco.client.jsonapi import Document
from flask_pco.sync.pull.base import prefetched


def page(n: int) -> Document:
    return Document(data=(), included={}, meta={"n": n}, links={}, skipped=())


def test_pages_arrive_in_order() -> None:
    assert [p.meta["n"] for p in prefetched(page(n) for n in range(5))] == [0, 1, 2, 3, 4]


def test_the_next_page_is_fetched_on_another_thread_while_one_is_written() -> None:
    fetched_on: list[str] = []

    def pages() -> Iterator[Document]:
        for n in range(3):
            fetched_on.append(threading.current_thread().name)
            yield page(n)

    list(prefetched(pages()))
    assert all(name.startswith("pco-prefetch") for name in fetched_on)


def test_a_fetch_error_is_raised_after_the_pages_before_it() -> None:
    def pages() -> Iterator[Document]:
        yield page(0)
        raise ConnectionError("PCO went away")

    seen = []
    with pytest.raises(ConnectionError, match="PCO went away"):
        for p in prefetched(pages()):
            seen.append(p.meta["n"])
    assert seen == [0]


def test_a_consumer_that_stops_early_does_not_wait_for_the_rest() -> None:
    release, answered = threading.Event(), threading.Event()

    def pages() -> Iterator[Document]:
        yield page(0)
        release.wait(5)  # a slow PCO answer for the page after the one consumed
        answered.set()
        yield page(1)

    stream = prefetched(pages())
    assert next(stream).meta["n"] == 0
    stream.close()
    assert not answered.is_set()  # close did not wait for the fetch in flight
    release.set()
