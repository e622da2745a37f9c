"""Read-only PCO data (check-ins, calendar, group types, ...): ``GET /api/pco/<view>`` as JSON.

The admin page renders the same pages as HTML. One page view is one PCO request
(``?page=`` becomes PCO's ``offset``/``per_page``), and each answer is kept for
``PCO_READONLY_CACHE_SECONDS`` in a small per-process cache keyed by path and parameters, so
refreshing a tab does not spend the organisation's 100-requests-a-minute budget. (A process-local
dict is enough here: the data is a display aid, a few stale seconds are harmless, and it needs no
Redis or Flask-Caching set-up from the host.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from cachetools import TTLCache
from flask import Blueprint, abort, jsonify, request

from flask_pco.exceptions import ConfigError, PcoError
from flask_pco.redaction import first_line
from flask_pco.state import current_pco
from flask_pco.web.admin import require_admin

if TYPE_CHECKING:
    from flask import Response

    from flask_pco.mapping.readonly import ReadOnlyView
    from flask_pco.state import PcoState

__all__ = ["PER_PAGE", "ReadOnlyPage", "TtlCache", "fetch_page", "readonly_blueprint", "view_named"]

#: Rows per page of a read-only view: small enough to read, one PCO request per page.
PER_PAGE = 25
MAX_PAGE = 1000

readonly_blueprint = Blueprint("pco_readonly", __name__, url_prefix="/api/pco")
readonly_blueprint.before_request(require_admin)


@dataclass(frozen=True, slots=True)
class ReadOnlyPage:
    """One page of a read-only view, ready for a table or for JSON."""

    view: ReadOnlyView
    rows: tuple[Any, ...]
    page: int
    total_count: int | None
    has_next: bool
    skipped: int

    def to_json(self) -> dict[str, Any]:
        from flask_pco.mapping.readonly import row_to_json

        return {
            "data": [row_to_json(row) for row in self.rows],
            "page": self.page,
            "per_page": PER_PAGE,
            "total_count": self.total_count,
            "next_page": self.page + 1 if self.has_next else None,
            "skipped": self.skipped,
        }


_MISSING = object()


class TtlCache:
    """Pages fetched moments ago, shared by the threads of one process: cachetools' TTLCache
    behind a lock, filled outside it so a slow PCO answer blocks no other view. A ``ttl`` of 0
    caches nothing; a failed load is not cached."""

    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 256
    ) -> None:
        self._entries: TTLCache[Hashable, Any] | None = (
            TTLCache(maxsize=max_entries, ttl=ttl, timer=clock) if ttl > 0 else None
        )
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], Any]) -> Any:
        if self._entries is None:
            return load()
        with self._lock:
            hit = self._entries.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        value = load()
        with self._lock:
            self._entries[key] = value
        return value


def view_named(name: str) -> ReadOnlyView:
    """The read-only view called ``name``, or a 404 listing the ones there are."""
    from flask_pco.mapping.readonly import VIEWS  # its dataclasses: when a view is asked for

    view = VIEWS.get(name)
    if view is None:
        abort(404, description=f"no read-only view {name!r}; there are: {', '.join(VIEWS)}")
    return view


def page_number(raw: str | None) -> int:
    """``?page=`` as a number from 1 to ``MAX_PAGE``; anything else is a 400."""
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=f"page must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def fetch_page(state: PcoState, view: ReadOnlyView, page: int) -> ReadOnlyPage:
    """One page of ``view`` from PCO, or from the cache if it was fetched moments ago."""
    params = {**view.params, "per_page": str(PER_PAGE), "offset": str((page - 1) * PER_PAGE)}
    key = (state.config.api_url, view.path, tuple(sorted(params.items())))
    cache: TtlCache = state.cache.setdefault(
        "readonly", TtlCache(state.config.readonly_cache_seconds)
    )

    def load() -> ReadOnlyPage:
        document = state.client().get(view.path, params)
        rows = tuple(view.parse(resource, document) for resource in document.data)
        return ReadOnlyPage(
            view=view,
            rows=rows,
            page=page,
            total_count=document.total_count,
            has_next=bool(document.links.get("next") or document.meta.get("next")),
            skipped=len(document.skipped),
        )

    return cast(ReadOnlyPage, cache.get_or_load(key, load))


@readonly_blueprint.get("/<name>")
def readonly_json(name: str) -> tuple[Response, int] | Response:
    view = view_named(name)
    page = page_number(request.args.get("page"))
    try:
        result = fetch_page(current_pco(), view, page)
    except ConfigError as error:
        return jsonify({"error": str(error)}), 503
    except PcoError as error:
        return jsonify({"error": f"PCO did not answer: {first_line(error)}"}), 502
    return jsonify(result.to_json())
