"""Query rendering and the paginator that follows ``links.next``.

PCO pages with ``offset``/``per_page`` and gives the next page as a full URL in
``links.next`` (its query re-serialised, parameters sorted), so the paginator only follows that
link and holds one page at a time: memory stays flat however large the collection.

Deep offsets. PCO throttles requests whose offset exceeds 30,000 (75/20 s documented, 10/20 s
observed). When a listing is ordered by ``updated_at`` or ``created_at`` (ascending) and the
next link would go past ``deep_offset``, the paginator restarts the listing from offset 0 with
``where[<key>][gte]=<last value seen>``, and drops the records at that boundary value that it
has already yielded (it remembers their ids). Ties are therefore never lost nor repeated. If
the window cannot move forward (more than 30,000 records share one timestamp) or the listing
has another order, it keeps following the deep links and lets the rate limiter slow down.

Lookahead. A long listing can ask for the page after next while the next one is on its way
(``lookahead=True``): PCO's next link is the same query one ``per_page`` further on, so while
page k+1 is fetched, page k+2 is fetched beside it, and used only if page k+1's own next link
names exactly that page. The answer time of one page then overlaps the reading of another.
It is never guessed past ``meta.total_count``, past a deep-offset restart, or without a next
link to start from, so a guess that goes unused (the listing shrank or PCO changed its links)
is rare and costs one request.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from flask_pco.client.jsonapi import Document
from flask_pco.exceptions import DocumentError

__all__ = ["DEEP_OFFSET", "Paginator", "render_params", "render_query", "render_value"]

log = logging.getLogger("flask_pco.client")

#: PCO applies a stricter rate limit above this offset.
DEEP_OFFSET = 30_000
_WINDOW_KEYS = ("updated_at", "created_at")

Fetch = Callable[[str, Mapping[str, str] | None], Document]


def render_value(value: Any) -> str:
    """A query value as PCO expects it: datetimes in UTC with ``Z``, booleans in lower case."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}[{key}]", inner)
    else:
        yield prefix, render_value(value)


def render_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as strings; nested mappings become ``name[key]`` (``where``, ``fields``)."""
    return dict(pair for key, value in params.items() for pair in _flatten(key, value))


def render_query(
    *,
    per_page: int,
    include: Sequence[str] = (),
    where: Mapping[str, Any] | None = None,
    order: str | None = None,
    filter: str | Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The query of a listing's first page.

    ``where={"updated_at": {"gte": dt}, "remote_id": 5}`` becomes
    ``where[updated_at][gte]=...Z&where[remote_id]=5``; ``include`` and ``filter`` sequences
    are joined with commas. ``params`` are passed through last and win.
    """
    query: dict[str, str] = {"per_page": str(per_page)}
    if include:
        query["include"] = ",".join(include)
    if order:
        query["order"] = order
    if filter:
        query["filter"] = filter if isinstance(filter, str) else ",".join(filter)
    query.update(_flatten("where", where) if where else ())
    query.update(render_params(params or {}))
    return query


def _next_offset(document: Document) -> int | None:
    nxt = document.meta.get("next")
    if isinstance(nxt, Mapping) and isinstance(nxt.get("offset"), int):
        return int(nxt["offset"])
    values = parse_qs(urlsplit(document.next_url or "").query).get("offset")
    text = values[0] if values else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class Paginator:
    """Streams the pages of one listing, following ``links.next`` and windowing deep offsets."""

    def __init__(
        self,
        fetch: Fetch,
        path: str,
        query: Mapping[str, str],
        *,
        deep_offset: int | None = None,
        lookahead: bool = False,
    ) -> None:
        self._fetch = fetch
        self._lookahead = lookahead
        self._path = path
        self._query = dict(query)
        self._deep_offset = DEEP_OFFSET if deep_offset is None else deep_offset
        order = self._query.get("order")
        self._key = order if order in _WINDOW_KEYS else None
        self._last: str | None = None  # the window key's value of the last record yielded
        self._last_ids: set[str] = set()  # ids yielded with exactly that value
        self._window_start: str | None = None
        self._window_ids: frozenset[str] = frozenset()
        #: How many times the listing was restarted to avoid a deep offset.
        self.windows = 0

    def __iter__(self) -> Iterator[Document]:
        url: str = self._path
        query: Mapping[str, str] | None = self._query
        followed: set[str] = set()  # next links already read: one seen again is a cycle
        ahead = _Ahead(self._fetch) if self._lookahead else None
        try:
            while True:
                page = ahead.take(url, query) if ahead else self._fetch(url, query)
                document = self._without_repeats(page)
                for problem in document.skipped:
                    log.warning("skipped a malformed record in %s: %s", self._path, problem)
                self._remember(document)
                if document.next_url is None:
                    yield document
                    return
                if self._should_restart(document):
                    url, query = self._path, self._restart_query()
                elif document.next_url in followed:
                    raise DocumentError(
                        f"links.next of {self._path} leads back to a page already read: "
                        f"{document.next_url}"
                    )
                else:
                    url, query = document.next_url, None
                    followed.add(url)
                    if ahead:
                        ahead.want(url, self._page_after(document))
                yield document
        finally:
            if ahead:
                ahead.close()

    def _page_after(self, document: Document) -> str | None:
        """The URL of the page after ``document``'s next one, when it can be told: the next
        link one ``per_page`` further on, inside ``total_count``, not at a deep offset."""
        offset, total = _next_offset(document), document.total_count
        parts = urlsplit(document.next_url or "")
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        size = dict(pairs).get("per_page", "")
        if offset is None or total is None or not (size.isascii() and size.isdigit()):
            return None
        after = offset + int(size)
        if after >= total or (self._key is not None and after > self._deep_offset):
            return None
        if dict(pairs).get("offset") != str(offset):
            return None  # the link does not say its offset as a parameter: nothing to move
        moved = [(k, str(after) if k == "offset" else v) for k, v in pairs]
        return urlunsplit(parts._replace(query=urlencode(moved)))

    def _remember(self, document: Document) -> None:
        if self._key is None:
            return
        for resource in document.data:
            value = resource.get(self._key)
            if not isinstance(value, str):
                continue
            if self._last is None or value > self._last:  # ISO-8601 UTC strings sort as times
                self._last, self._last_ids = value, set()
            if value == self._last:
                self._last_ids.add(resource.id)

    def _should_restart(self, document: Document) -> bool:
        offset = _next_offset(document)
        if self._key is None or offset is None or offset <= self._deep_offset:
            return False
        if self._last is None or self._last == self._window_start:
            log.warning("cannot window %s past offset %s: following deep links", self._path, offset)
            return False
        return True

    def _restart_query(self) -> dict[str, str]:
        assert self._key is not None and self._last is not None
        self.windows += 1
        self._window_start, self._window_ids = self._last, frozenset(self._last_ids)
        log.info(
            "restarting %s at %s >= %s to avoid deep offsets", self._path, self._key, self._last
        )
        dropped = {f"where[{self._key}][gte]", f"where[{self._key}][gt]", "offset"}
        query = {k: v for k, v in self._query.items() if k not in dropped}
        query[f"where[{self._key}][gte]"] = self._last
        return query

    def _without_repeats(self, document: Document) -> Document:
        if not self._window_ids or self._key is None:
            return document
        kept = tuple(
            r
            for r in document.data
            if not (r.id in self._window_ids and r.get(self._key) == self._window_start)
        )
        if len(kept) == len(document.data):
            return document
        return dataclasses.replace(document, data=kept)


def _page_key(url: str, query: Mapping[str, str] | None) -> tuple[str, frozenset[tuple[str, str]]]:
    """A page's identity however its query is spelled (order, percent-encoding)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list((query or {}).items())
    return parts.path, frozenset(pairs)


class _Ahead:
    """Pages asked for before they are needed, each on a thread of its own (two at most)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pco-lookahead")
        self._asked: dict[tuple[str, frozenset[tuple[str, str]]], Future[Document]] = {}

    def want(self, *urls: str | None) -> None:
        """Start fetching ``urls`` (the next page, then the guessed one after it); pages
        asked for earlier and not among them were guessed wrong and are dropped."""
        keys = {_page_key(url, None): url for url in urls if url}
        for key in set(self._asked) - set(keys):
            self._asked.pop(key).cancel()
        for key, url in keys.items():
            if key not in self._asked:
                # The fetch logs as the listing does (its run's fields live in contextvars).
                run = contextvars.copy_context().run
                self._asked[key] = self._pool.submit(run, self._fetch, url, None)

    def take(self, url: str, query: Mapping[str, str] | None) -> Document:
        """The page at ``url``: the one already asked for, else fetched now."""
        asked = self._asked.pop(_page_key(url, query), None)
        return asked.result() if asked is not None else self._fetch(url, query)

    def close(self) -> None:
        """A listing stopped early does not wait for the pages still on their way."""
        self._pool.shutdown(wait=False, cancel_futures=True)
