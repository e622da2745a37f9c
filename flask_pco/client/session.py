"""``PcoClient``: the only code in flask-pco that talks HTTP to Planning Center.

One ``requests.Session`` (connection reuse) per client. Every request waits for the shared
rate-limit budget, carries the API version pinned for its PCO app, and is retried by tenacity
according to ``RetryPolicy``. Responses become ``Document`` objects or ``PcoError`` exceptions;
nothing here knows about Flask or the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from flask_pco.client.auth import Auth
from flask_pco.client.errors import RetryPolicy, error_for, redact_url, transport_error
from flask_pco.client.jsonapi import Document, Identifier, Resource, parse_document
from flask_pco.client.paging import Paginator, render_params, render_query
from flask_pco.client.ratelimit import RateInfo, RateLimiter, parse_rate_headers
from flask_pco.exceptions import DocumentError, RateLimitError

__all__ = ["DEFAULT_VERSIONS", "PcoClient", "ResourceIterator"]

log = logging.getLogger("flask_pco.client")

#: The version pinned per PCO app (first path segment) unless configured otherwise.
DEFAULT_VERSIONS: Mapping[str, str] = {
    "people": "2022-07-14",
    "groups": "2018-08-01",
    "check-ins": "2019-07-17",
    "calendar": "2021-07-20",
    "webhooks": "2018-08-01",
}

Relationship = Identifier | Sequence[Identifier] | None | Mapping[str, Any]


class ResourceIterator(Iterator[Resource]):
    """The good records of every page, in order; ``skipped`` collects the malformed ones."""

    def __init__(self, pages: Iterator[Document]) -> None:
        self.skipped: list[DocumentError] = []
        self._records = self._walk(pages)

    def _walk(self, pages: Iterator[Document]) -> Iterator[Resource]:
        for page in pages:
            self.skipped.extend(page.skipped)
            yield from page.data

    def __next__(self) -> Resource:
        return next(self._records)


class PcoClient:
    """A PCO API client; see the package docstring for the interface."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        versions: Mapping[str, str] | None = None,
        per_page: int = 100,
        timeout: float = 30.0,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_attempts: int = 5,
        max_rate_limit_wait: float = 900.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.versions = {**DEFAULT_VERSIONS, **(versions or {})}
        self.per_page = per_page
        self.timeout = timeout
        # In memory, the block after a 429 may use the client's own clock (tests inject one).
        self.limiter = limiter or RateLimiter(auth.credential_key, clock=clock)
        self._own_session = session is None
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self.max_attempts = max_attempts
        self.max_rate_limit_wait = max_rate_limit_wait
        #: HTTP requests sent to the API by this client, retries and 429s included.
        self.request_count = 0
        self._counting = threading.Lock()
        #: PCO's rate-limit headers from the last response, if it had them.
        self.rate_info: RateInfo | None = None

    def __repr__(self) -> str:
        return f"PcoClient({self.base_url!r}, {self.auth!r}, {self.limiter!r})"

    def __enter__(self) -> PcoClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session (if this client made it) and the limiter's own Redis."""
        if self._own_session:
            self.session.close()
        self.limiter.close()

    # -- reading ----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Document:
        """One document; ``path`` is relative to ``base_url`` or a full URL such as links.next."""
        query = render_params(params) if params else None
        return self._document(self._request("GET", path, params=query))

    def pages(
        self,
        path: str,
        *,
        include: Sequence[str] = (),
        where: Mapping[str, Any] | None = None,
        order: str | None = None,
        filter: str | Sequence[str] | None = None,
        per_page: int | None = None,
        params: Mapping[str, Any] | None = None,
        lookahead: bool = False,
    ) -> Iterator[Document]:
        """Every page of a listing, one at a time, following ``links.next``; ``lookahead``:
        fetch the page after next beside the next one (long listings, see ``Paginator``)."""
        query = render_query(
            per_page=per_page or self.per_page,
            include=include,
            where=where,
            order=order,
            filter=filter,
            params=params,
        )
        return iter(Paginator(self.get, path, query, lookahead=lookahead))

    def iterate(self, path: str, **options: Any) -> ResourceIterator:
        """Every good record of a listing, in order; malformed ones end up in ``.skipped``."""
        return ResourceIterator(self.pages(path, **options))

    # -- writing ----------------------------------------------------------------------------

    def create(
        self,
        path: str,
        type_: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Relationship] | None = None,
    ) -> Resource:
        """POST a new record to a collection URL; PCO answers 201 with the record."""
        data: dict[str, Any] = {"type": type_, "attributes": dict(attributes)}
        if relationships:
            data["relationships"] = {k: _relationship(v) for k, v in relationships.items()}
        return self._single(self._request("POST", path, json={"data": data}))

    def update(self, path: str, type_: str, id_: str, attributes: Mapping[str, Any]) -> Resource:
        """PATCH the changed attributes of a record; PCO answers 200 with the whole record."""
        data = {"type": type_, "id": str(id_), "attributes": dict(attributes)}
        return self._single(self._request("PATCH", path, json={"data": data}))

    def delete(self, path: str) -> None:
        """DELETE a record; PCO answers 204 with no body."""
        self._request("DELETE", path)

    # -- HTTP -------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> requests.Response:
        policy = RetryPolicy(
            idempotent=method == "GET",
            clock=self._clock,
            max_attempts=self.max_attempts,
            max_wait=self.max_rate_limit_wait,
        )
        retrying = policy.retrying(self._sleep)
        return retrying(self._attempt, method, self._url(path), params, json)

    def _attempt(
        self, method: str, url: str, params: Mapping[str, Any] | None, json: Any
    ) -> requests.Response:
        if self.auth.refresh_due():
            self._refresh()
        response = self._send(method, url, params, json)
        if response.status_code == 401 and self.auth.can_refresh:
            self._refresh()
            response = self._send(method, url, params, json)
        error = error_for(response)
        if isinstance(error, RateLimitError):
            self.limiter.block(error.retry_after)
        if error is not None:
            raise error
        return response

    def _refresh(self) -> None:
        self.auth.refresh(self.session, f"{self.base_url}/oauth/token", self.timeout)

    def _send(
        self, method: str, url: str, params: Mapping[str, Any] | None, json: Any
    ) -> requests.Response:
        self.limiter.acquire(self._sleep)
        headers = {"Accept": "application/vnd.api+json, application/json"}
        version = self.versions.get(self._module(url))
        if version:
            headers["X-PCO-API-Version"] = version
        self.auth.apply(headers)
        with self._counting:  # pages of a listing may be fetched on two threads at once
            self.request_count += 1
        started = time.monotonic()  # real time: the limiter's window is in real time
        try:
            response = self.session.request(
                method, url, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            self.limiter.tally("error")
            raise transport_error(exc, method, url) from exc
        self.limiter.observe(time.monotonic() - started)
        self.limiter.tally(str(response.status_code))
        self._observe(response)
        return response

    def _observe(self, response: requests.Response) -> None:
        """Learn the rate budget and log the version PCO actually used."""
        self.rate_info = parse_rate_headers(response.headers)
        if self.rate_info is not None:
            self.limiter.learn(self.rate_info)
        log.debug(
            "%s %s -> %s (processed as version %s)",
            response.request.method,
            redact_url(response.url),
            response.status_code,
            response.headers.get("X-PCO-API-Processed-As-Version", "?"),
        )

    def _url(self, path: str) -> str:
        """An absolute URL on ``base_url``; a link to another host is moved onto it."""
        if not urlsplit(path).scheme:
            return f"{self.base_url}/{path.lstrip('/')}"
        base, link = urlsplit(self.base_url), urlsplit(path)
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return path
        # Credentials go only to the configured host (a proxy may rewrite PCO's links).
        return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))

    def _module(self, url: str) -> str:
        base_path = urlsplit(self.base_url).path.rstrip("/")
        path = urlsplit(url).path
        if base_path and path.startswith(base_path):
            path = path[len(base_path) :]
        return path.lstrip("/").split("/", 1)[0]

    def _document(self, response: requests.Response) -> Document:
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise DocumentError(
                f"{redact_url(response.url)} answered HTTP {response.status_code} "
                f"with a non-JSON body ({kind})"
            ) from None
        return parse_document(body)

    def _single(self, response: requests.Response) -> Resource:
        document = self._document(response)
        if not document.data:
            raise DocumentError(f"{redact_url(response.url)} returned no record")
        return document.data[0]


def _relationship(value: Relationship) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if value is None:
        return {"data": None}
    if isinstance(value, Identifier):
        return {"data": {"type": value.type, "id": value.id}}
    return {"data": [{"type": i.type, "id": i.id} for i in value]}
