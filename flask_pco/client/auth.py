"""Credentials: a Personal Access Token (HTTP Basic) or an OAuth 2 bearer token.

PCO's OAuth access tokens live two hours and refresh tokens may rotate on every refresh, so
``OAuth2Auth`` refreshes shortly before expiry (and once when PCO answers 401) and hands every
new token to the host's ``on_refresh`` callback at once: losing a rotated refresh token means
an admin has to re-authorise the app.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

import requests

from flask_pco.client.errors import error_for, transport_error
from flask_pco.exceptions import ApiError, AuthenticationError, ServerError

__all__ = ["Auth", "BasicAuth", "OAuth2Auth"]

log = logging.getLogger("flask_pco.client")

TokenCallback = Callable[[dict[str, Any]], None]
TokenLoader = Callable[[], Mapping[str, Any] | None]
#: A lock every process holding the grant takes around a refresh (Redis, or a database row).
RefreshLock = Callable[[], AbstractContextManager[Any]]
#: Told when PCO refuses the refresh token for good, so the host can ask for a reconnect.
RefusalCallback = Callable[[AuthenticationError], None]


class Auth(Protocol):
    """What ``PcoClient`` needs from a credential."""

    def apply(self, headers: MutableMapping[str, str]) -> None:
        """Add the ``Authorization`` header."""

    @property
    def can_refresh(self) -> bool:
        """Whether a 401 may be cured by fetching a new token."""

    def refresh_due(self) -> bool:
        """Whether the token should be refreshed before the next request."""

    def refresh(self, session: requests.Session, token_url: str, timeout: float) -> None:
        """Fetch a new token."""

    @property
    def credential_key(self) -> str:
        """A stable, non-secret name for the credential, for the shared rate-limit key."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class BasicAuth:
    """A Personal Access Token: application id and secret sent as HTTP Basic on every request."""

    can_refresh = False

    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self._header = "Basic " + base64.b64encode(f"{app_id}:{secret}".encode()).decode()

    def __repr__(self) -> str:
        return f"BasicAuth(app_id={self.app_id!r}, secret=***)"

    def apply(self, headers: MutableMapping[str, str]) -> None:
        headers["Authorization"] = self._header

    def refresh_due(self) -> bool:
        return False

    def refresh(self, session: requests.Session, token_url: str, timeout: float) -> None:
        raise AuthenticationError(401, message="a Personal Access Token cannot be refreshed")

    @property
    def credential_key(self) -> str:
        return f"pat-{_digest(self.app_id)}"


class OAuth2Auth:
    """An OAuth 2 bearer token, refreshed through ``{base}/oauth/token`` when it nears expiry.

    ``expires_at`` is a Unix time. Refresh needs ``refresh_token``, ``client_id`` and
    ``client_secret``; without them the token is used until PCO refuses it.

    Several processes (web, CLI, RQ workers) share one grant, and a refresh rotates the refresh
    token, so the second process to refresh would get ``invalid_grant``. ``load_token``, when
    the host gives one, returns the token as last stored by ``on_refresh`` (any process): it is
    read before refreshing, and a newer stored token is adopted instead of refreshing again.
    """

    #: Refresh this many seconds early, so a request never leaves with a token about to die.
    LEEWAY = 60.0

    def __init__(
        self,
        access_token: str,
        *,
        refresh_token: str | None = None,
        expires_at: float | None = None,
        client_id: str = "",
        client_secret: str = "",
        on_refresh: TokenCallback | None = None,
        load_token: TokenLoader | None = None,
        refresh_lock: RefreshLock | None = None,
        on_refused: RefusalCallback | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = expires_at
        self.client_id = client_id
        self._client_secret = client_secret
        self._on_refresh = on_refresh
        self._load_token = load_token
        self._refresh_lock = refresh_lock or nullcontext
        self._on_refused = on_refused
        self._clock = clock
        self._lock = threading.Lock()
        self._key = f"oauth-{_digest(client_id + ':' + (refresh_token or access_token))}"

    def __repr__(self) -> str:
        return f"OAuth2Auth(client_id={self.client_id!r}, expires_at={self.expires_at!r})"

    def apply(self, headers: MutableMapping[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self.access_token}"

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id and self._client_secret)

    def refresh_due(self) -> bool:
        if not self.can_refresh or self.expires_at is None:
            return False
        return self._clock() >= self.expires_at - self.LEEWAY

    @property
    def credential_key(self) -> str:
        # Fixed at construction: the token rotates, the budget it draws on does not.
        return self._key

    def refresh(self, session: requests.Session, token_url: str, timeout: float) -> None:
        """Exchange the refresh token for a new pair and hand it to ``on_refresh``."""
        with self._lock, self._refresh_lock():
            if self._adopt_stored_token():
                return
            try:
                token = self._request_token(session, token_url, timeout)
            except AuthenticationError as refused:
                if self._on_refused is not None:
                    self._on_refused(refused)
                raise
            self.access_token = str(token["access_token"])
            self.refresh_token = str(token.get("refresh_token") or self.refresh_token)
            token["refresh_token"] = self.refresh_token
            self.expires_at = self._expiry(token)
            token["expires_at"] = self.expires_at
            log.info("refreshed the PCO OAuth access token (expires at %s)", self.expires_at)
            if self._on_refresh is not None:
                self._on_refresh(token)

    def _adopt_stored_token(self) -> bool:
        """Take a token another process stored since ours was issued, if it is still fresh."""
        stored = self._load_token() if self._load_token is not None else None
        if not stored:
            return False
        if stored.get("access_token") in ("", None, self.access_token):
            # Same token: ours may still carry a refresh token someone else already spent.
            self.refresh_token = str(stored.get("refresh_token") or self.refresh_token)
            return False
        expires_at = stored.get("expires_at")
        if isinstance(expires_at, int | float) and self._clock() >= expires_at - self.LEEWAY:
            self.refresh_token = str(stored.get("refresh_token") or self.refresh_token)
            return False
        self.access_token = str(stored["access_token"])
        self.refresh_token = str(stored.get("refresh_token") or self.refresh_token)
        self.expires_at = float(expires_at) if isinstance(expires_at, int | float) else None
        log.info("adopted the PCO OAuth token another process refreshed")
        return True

    def _request_token(
        self, session: requests.Session, token_url: str, timeout: float
    ) -> dict[str, Any]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token or "",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        try:
            response = session.post(token_url, data=form, timeout=timeout)
        except requests.RequestException as exc:
            raise transport_error(exc, "POST", token_url) from exc
        error = error_for(response)
        if error is not None:
            raise _refresh_failure(error) from error
        token = _json_object(response)
        if not token.get("access_token"):
            raise ServerError(response.status_code, message="PCO's token reply has no access_token")
        return token

    def _expiry(self, token: dict[str, Any]) -> float | None:
        expires_in = token.get("expires_in")
        if not isinstance(expires_in, int | float):
            return None
        created = token.get("created_at")
        start = float(created) if isinstance(created, int | float) else self._clock()
        return start + float(expires_in)


def _refresh_failure(error: ApiError) -> ApiError:
    """``invalid_grant`` and friends mean the stored grant is dead: only re-authorising helps."""
    if error.retriable:
        return error
    titles = " ".join(str(e.get("title", "")) for e in error.errors) or "no reason given"
    return AuthenticationError(
        error.status,
        error.errors,
        message=f"PCO refused to refresh the OAuth token ({titles}): "
        "reconnect Planning Center on the admin page",
    )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ServerError(response.status_code, message="PCO's token reply is not a JSON object")
    return body
