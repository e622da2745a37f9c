"""The PCO API client: the only part of flask-pco that talks HTTP to Planning Center.

It knows nothing of Flask or the database::

    client = build_client(base_url=..., app_id=..., secret=..., redis_url=...)
    for page in client.pages("/people/v2/people", include=("emails",), order="updated_at"):
        for person in page.data:
            emails = page.related(person, "emails")

``PcoClient.get/pages/iterate/create/update/delete`` return parsed JSON:API objects
(``jsonapi``) or raise the ``flask_pco.exceptions`` tree. What callers can rely on:

* every process using one credential shares one rate-limit budget in Redis (``RateLimiter``),
  learned from PCO's headers; a 429 makes every process wait ``Retry-After`` (1 s when it is
  unreadable, negative or not finite; at most 120 s) and is retried for any method, so it only
  surfaces (as ``RateLimitError``) after ``max_rate_limit_wait`` seconds (15 min) of waiting;
* ``Document.total_count`` is None unless PCO gave a whole number a listing could hold;
* GETs retry timeouts, connection errors and 5xx (``max_attempts`` = 5 in all, jittered
  backoff from 0.5 s, capped at 30 s); POST/PATCH/DELETE raise them at once, so a create
  whose outcome is unknown must be reconciled by the caller;
* a malformed record does not fail its page: ``Document.skipped`` / ``iterate(...).skipped``;
* large listings: pass ``order="updated_at"`` (or ``created_at``) so the paginator can
  restart by time window instead of paging past offset 30,000 (see ``paging``);
* ``request_count`` counts API requests sent (retries and 429s included; not token refreshes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flask_pco.exceptions import ConfigError

if TYPE_CHECKING:
    from flask_pco.client.auth import (
        Auth,
        BasicAuth,
        OAuth2Auth,
        RefreshLock,
        RefusalCallback,
        TokenCallback,
        TokenLoader,
    )
    from flask_pco.client.connection import ConnectionInfo, test_connection
    from flask_pco.client.jsonapi import (
        Document,
        Identifier,
        Resource,
        parse_document,
        parse_resource,
    )
    from flask_pco.client.ratelimit import RateInfo, RateLimiter, parse_rate_headers
    from flask_pco.client.session import DEFAULT_VERSIONS, PcoClient, ResourceIterator

#: Where each name of the client lives: imported when first read, so a module that needs only
#: ``client.ids`` or ``client.jsonapi`` (``flask pco status``, the admin page) does not load
#: requests, urllib3 and limits with the rest of the client.
_HOMES = {
    "Auth": "auth",
    "BasicAuth": "auth",
    "OAuth2Auth": "auth",
    "RefreshLock": "auth",
    "RefusalCallback": "auth",
    "TokenCallback": "auth",
    "TokenLoader": "auth",
    "ConnectionInfo": "connection",
    "test_connection": "connection",
    "Document": "jsonapi",
    "Identifier": "jsonapi",
    "Resource": "jsonapi",
    "parse_document": "jsonapi",
    "parse_resource": "jsonapi",
    "RateInfo": "ratelimit",
    "RateLimiter": "ratelimit",
    "parse_rate_headers": "ratelimit",
    "DEFAULT_VERSIONS": "session",
    "PcoClient": "session",
    "ResourceIterator": "session",
}


def __getattr__(name: str) -> Any:
    """A name of the client, from its module, on first use."""
    if name in _HOMES:
        return getattr(importlib.import_module(f"flask_pco.client.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_VERSIONS",
    "Auth",
    "BasicAuth",
    "ConnectionInfo",
    "Document",
    "Identifier",
    "OAuth2Auth",
    "PcoClient",
    "RateInfo",
    "RateLimiter",
    "Resource",
    "ResourceIterator",
    "build_client",
    "parse_document",
    "parse_rate_headers",
    "parse_resource",
    "test_connection",
]


def build_client(
    *,
    base_url: str,
    app_id: str = "",
    secret: str = "",
    access_token: str = "",
    versions: dict[str, str] | None = None,
    per_page: int = 100,
    timeout: float = 30.0,
    redis_url: str = "",
    organization_key: str = "",
    rate_limit: int = 100,
    rate_period: int = 20,
    on_refresh: TokenCallback | None = None,
    refresh_token: str = "",
    token_expires_at: float | None = None,
    client_id: str = "",
    client_secret: str = "",
    load_token: TokenLoader | None = None,
    refresh_lock: RefreshLock | None = None,
    on_refused: RefusalCallback | None = None,
) -> PcoClient:
    """A client from configuration values: OAuth when ``access_token`` is set, else the PAT.

    The rate budget is keyed by ``organization_key`` when given, else by a digest of the
    credential, and kept in Redis when ``redis_url`` is set. ``refresh_token``,
    ``token_expires_at``, ``client_id``, ``client_secret``, ``load_token``, ``refresh_lock``
    and ``on_refused`` let an OAuth token refresh itself (see ``OAuth2Auth``).
    """
    from flask_pco.client.auth import BasicAuth, OAuth2Auth
    from flask_pco.client.ratelimit import RateLimiter
    from flask_pco.client.session import PcoClient

    auth: Auth
    if access_token:
        auth = OAuth2Auth(
            access_token,
            refresh_token=refresh_token or None,
            expires_at=token_expires_at,
            client_id=client_id,
            client_secret=client_secret,
            on_refresh=on_refresh,
            load_token=load_token,
            refresh_lock=refresh_lock,
            on_refused=on_refused,
        )
    elif app_id and secret:
        auth = BasicAuth(app_id, secret)
    else:
        raise ConfigError("set PCO_APP_ID and PCO_SECRET (or PCO_ACCESS_TOKEN) to talk to PCO")
    limiter = RateLimiter(
        organization_key or auth.credential_key,
        redis_url or None,  # the limiter opens, owns and closes the connection
        rate_limit,
        rate_period,
    )
    return PcoClient(
        base_url, auth, versions=versions, per_page=per_page, timeout=timeout, limiter=limiter
    )
