"""Per-app state: what flask-pco keeps in ``app.extensions["pco"]``, and how code finds it.

The bottom of the package: it imports configuration, models and the client, never sync, jobs or
web. Every layer above receives a ``PcoState`` (or asks ``current_pco()`` at its edge).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from flask_pco.config import PcoConfig
from flask_pco.exceptions import (
    AuthenticationError,
    ConfigError,
    OrganizationUnknownError,
    PcoError,
)
from flask_pco.legacy_rows import move_rows
from flask_pco.models import utcnow
from flask_pco.tenancy import current_organization, organization_key

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from redis import Redis

    from flask_pco.client import PcoClient
    from flask_pco.models import PcoModels, Roles
    from flask_pco.tenancy import OrganizationLoader
    from flask_pco.tokens import OAuthConnection, TokenStore

__all__ = ["AccessCheck", "Extension", "PcoState", "current_pco"]

log = logging.getLogger(__name__)

#: The key every OAuth token had before it came from PCO: rows stored under it are adopted.
LEGACY_OAUTH_KEY = "oauth"

#: Seconds a failure to learn the organisation is given again without asking PCO.
ORGANIZATION_RETRY_AFTER = 15.0
#: How long a failed look at PCO's time zone is not repeated (times show in UTC meanwhile).
TIME_ZONE_RETRY_AFTER = 300.0
TIME_ZONE_TIMEOUT = 5.0

#: Seconds to wait for Redis to accept a connection.
REDIS_CONNECT_TIMEOUT = 5.0

#: Decides whether the current request may use the admin page: ``True`` allows, ``False``
#: answers 403, and a response (a login redirect, say) is returned as it is.
AccessCheck = Callable[[], Any]


class Extension(Protocol):
    """What the state reads from the ``PCO`` object (kept live: the host may register its
    models or admin check after ``init_app``)."""

    db: SQLAlchemy
    models: PcoModels
    roles: Roles
    _admin_access: AccessCheck | None
    _organization_loader: OrganizationLoader | None


@dataclass
class PcoState:
    """What flask-pco keeps per app, in ``app.extensions["pco"]``."""

    extension: Extension
    config: PcoConfig
    #: Per-process objects built on first use (the HTTP client, the Redis connection).
    cache: dict[str, Any] = field(default_factory=dict)
    #: The church this state is for, by the host's id (a site of many churches); None for
    #: the site's single church.
    organization: str | None = None
    #: The app's own state, of which this is one church's (None: this is the app's).
    parent: PcoState | None = None

    def for_organization(self, organization: str | None) -> PcoState:
        """The state of one church of this app (``organization`` None: the app's own); each
        keeps its own client, token store and organisation key, and they share Redis."""
        root = self.parent or self
        if organization is None:
            return root
        known: dict[str, PcoState] = root.cache.setdefault("organizations", {})
        if organization not in known:
            known[organization] = PcoState(
                root.extension, root.config, organization=organization, parent=root
            )
        return known[organization]

    def setting_key(self, name: str) -> str:
        """The settings row ``name`` of this church (the site's own for a single church)."""
        return name if self.organization is None else f"{self.organization_key()}:{name}"

    @property
    def db(self) -> SQLAlchemy:
        return self.extension.db

    @property
    def models(self) -> PcoModels:
        return self.extension.models

    @property
    def roles(self) -> Roles:
        return self.extension.roles

    @property
    def admin_access(self) -> AccessCheck | None:
        return self.extension._admin_access

    def client(self) -> PcoClient:
        """The PCO client of this process: one connection pool and one share of the budget.

        A church connected through "Connect Planning Center" uses its stored OAuth token,
        whatever else is configured.
        """
        connection = self.oauth_connection()
        if connection is not None:
            return self._connected_client(connection)
        if self.organization is not None:
            raise ConfigError(
                f"church {self.organization} has not connected Planning Center: an admin of "
                "theirs connects it on the admin page (each church uses its own PCO account)"
            )
        if self.cache.pop("connected_at", None) is not None:  # disconnected since
            self.cache.pop("client").close()
        if "client" not in self.cache:
            config = self.config
            if not config.has_credentials:
                raise ConfigError(
                    "PCO credentials are not set: set PCO_APP_ID and PCO_SECRET (a Personal "
                    "Access Token), or point PCO_API_URL at `flask pco sandbox`"
                )
            from flask_pco.client import build_client

            self.cache["client"] = build_client(
                app_id=config.app_id,
                secret=config.secret,
                access_token=config.access_token,
                # OAuth: each token draws on its own budget (PCO counts per user).
                organization_key=config.organization_key,
                **self._client_settings(),
            )
        return cast("PcoClient", self.cache["client"])

    def _client_settings(self) -> dict[str, Any]:
        """What every client of this app shares, whatever its credential."""
        config = self.config
        return {
            "base_url": config.api_url,
            "versions": dict(config.api_versions),
            "per_page": config.per_page,
            "timeout": config.timeout,
            "redis_url": config.redis_url,
            "rate_limit": config.rate_limit,
            "rate_period": config.rate_period,
        }

    def token_store(self) -> TokenStore:
        """Where the OAuth connection is kept (``PCO_TOKEN_KEY`` encrypts it)."""
        if "token_store" not in self.cache:
            from flask_pco.tokens import SETTING_KEY, TokenStore

            self.cache["token_store"] = TokenStore(
                self.db.engine,
                self.models.Setting,
                self.config.token_key,
                self.redis(),
                setting_key=self.setting_key(SETTING_KEY),
            )
        return cast("TokenStore", self.cache["token_store"])

    def oauth_connection(self) -> OAuthConnection | None:
        """The stored OAuth connection, read afresh (an admin may connect or disconnect in
        another process at any time); None without an OAuth app or a connection."""
        if not self.config.oauth_connect:
            if self.organization is not None:
                raise ConfigError(
                    "a site of many churches needs PCO's OAuth: set PCO_OAUTH_CLIENT_ID, "
                    "PCO_OAUTH_CLIENT_SECRET and PCO_TOKEN_KEY so each church connects its own"
                )
            return None
        return self.token_store().connection()

    def _connected_client(self, connection: OAuthConnection) -> PcoClient:
        """A client on the stored token, rebuilt when an admin connects again."""
        if connection.problem:
            raise AuthenticationError(401, message=connection.problem)
        if self.cache.get("connected_at") != connection.connected_at or "client" not in self.cache:
            store, config = self.token_store(), self.config
            token = store.token() or {}
            from flask_pco.client import build_client

            old = self.cache.pop("client", None)
            if old is not None:
                old.close()
            self.cache["client"] = build_client(
                access_token=str(token.get("access_token") or "-"),
                refresh_token=str(token.get("refresh_token") or ""),
                token_expires_at=token.get("expires_at"),
                client_id=config.oauth_client_id,
                client_secret=config.oauth_client_secret,
                on_refresh=store.save_token,
                load_token=store.token,
                refresh_lock=store.refresh_lock,
                on_refused=store.refused,
                organization_key=f"org-{connection.organization_id}",
                **self._client_settings(),
            )
            self.cache["connected_at"] = connection.connected_at
        return cast("PcoClient", self.cache["client"])

    def organization_key(self) -> str:
        """The key of the PCO organisation this app's credential belongs to: it names run
        slots, cursors, job ids and settings, so two churches on one Redis never share them.

        A Personal Access Token's app id is one organisation's. An OAuth token's organisation
        is asked of PCO once (``GET /people/v2``) and kept in the settings table under a digest
        of the token (never the token), so every process and every restart knows it, even
        while PCO is down. Without credentials nothing can run, and the key only names the
        empty history. A church connected with "Connect Planning Center" is the organisation
        PCO named when it connected.
        """
        if self.organization is not None:
            return str(organization_key(self.organization))
        connection = self.oauth_connection()
        if connection is not None:
            return f"org-{connection.organization_id}"
        if not self.config.access_token:
            return self.config.app_id or "unconfigured"
        if "organization_key" not in self.cache:
            key = f"org-{self._organization_id_or_recent_failure()}"
            self._adopt_legacy_rows(key)
            self.cache["organization_key"] = key
        return cast(str, self.cache["organization_key"])

    def _adopt_legacy_rows(self, key: str) -> None:
        """Move runs and cursors stored under the key an OAuth token had before (the app id
        when one was set too, else ``oauth``) to ``key``: history, approvals waiting and
        incremental cursors carry over. Only PCO knows the id, so no migration can do it."""
        legacy = self.config.app_id or LEGACY_OAUTH_KEY
        try:
            move_rows(self.db, self.models, legacy, key)
        except SQLAlchemyError as error:  # the next process tries again; nothing is lost
            log.warning("flask-pco: runs stored under %r stay there for now: %s", legacy, error)

    def _organization_id_or_recent_failure(self) -> str:
        """``_organization_id``, but a failure is given again for a few seconds without asking:
        while PCO is down the admin page's poll would otherwise wait out PCO's retries."""
        until, message, retriable = self.cache.get("organization_failure", (0.0, "", False))
        if time.monotonic() < until:
            raise OrganizationUnknownError(message, retriable=retriable)
        try:
            return self._organization_id()
        except OrganizationUnknownError as error:
            until = time.monotonic() + ORGANIZATION_RETRY_AFTER
            self.cache["organization_failure"] = (until, str(error), error.retriable)
            raise

    def _organization_id(self) -> str:
        from flask_pco.client.ids import is_pco_id
        from flask_pco.redaction import first_line

        digest = hashlib.sha256(self.config.access_token.encode()).hexdigest()[:24]
        key = f"organization:{digest}"
        Setting = self.models.Setting
        known = self.db.session.get(Setting, key)
        if known is not None and isinstance(known.value, str) and is_pco_id(known.value):
            return known.value
        try:
            document = self.client().get("/people/v2")
        except PcoError as error:
            raise OrganizationUnknownError(
                f"cannot tell which PCO organisation PCO_ACCESS_TOKEN belongs to: "
                f"{first_line(error)}",
                retriable=error.retriable,
            ) from None
        organization = document.data[0].id if document.data else ""
        if not is_pco_id(organization):
            raise OrganizationUnknownError("PCO answered GET /people/v2 without an organisation id")
        _remember_setting(self.db, Setting, key, organization)
        return organization

    def time_zone(self) -> str:
        """The church's time zone: ``PCO_TIME_ZONE`` when set, else the one PCO reports for
        the organisation, else UTC. PCO's is read once (``GET /people/v2``) and kept in the
        settings table; a connection test refreshes it. While PCO cannot say, UTC, and the
        look is not repeated for a few minutes, so a page never waits on PCO for it."""
        if self.config.time_zone:
            return self.config.time_zone
        if "time_zone" not in self.cache:
            until = self.cache.get("time_zone_failure", 0.0)
            known = self._stored_time_zone()
            if known is None and time.monotonic() >= until:
                known = self._ask_time_zone()
            if known is None:
                return "UTC"
            self.cache["time_zone"] = known
        return cast(str, self.cache["time_zone"])

    def remember_time_zone(self, name: str) -> None:
        """Keep the time zone PCO reported (a connection test, an OAuth organisation look)."""
        if not _is_zone(name) or self.cache.get("time_zone") == name:
            return
        key = f"time_zone:{self.organization_key()}"
        _remember_setting(self.db, self.models.Setting, key, name)
        self.cache["time_zone"] = name

    def _stored_time_zone(self) -> str | None:
        try:
            key = f"time_zone:{self.organization_key()}"
            stored = self.db.session.get(self.models.Setting, key)
        except (PcoError, SQLAlchemyError):
            return None
        value = stored.value if stored is not None else None
        return value if isinstance(value, str) and _is_zone(value) else None

    def _ask_time_zone(self) -> str | None:
        """One attempt, a short timeout: a page that needs the zone does not wait out PCO's
        retries (the client, its budget and connections are shared)."""
        from flask_pco.client import test_connection
        from flask_pco.client.session import PcoClient
        from flask_pco.redaction import first_line

        try:
            shared = self.client()
            once = PcoClient(
                shared.base_url,
                shared.auth,
                shared.versions,
                timeout=TIME_ZONE_TIMEOUT,
                limiter=shared.limiter,
                session=shared.session,
                max_attempts=1,
            )
            name = test_connection(once).time_zone
            self.remember_time_zone(name)
        except (PcoError, SQLAlchemyError) as error:
            log.info("flask-pco: times are shown in UTC for now: %s", first_line(error))
            self.cache["time_zone_failure"] = time.monotonic() + TIME_ZONE_RETRY_AFTER
            return None
        return name if _is_zone(name) else None

    def redis(self) -> Redis | None:
        """The Redis connection for jobs and the shared budget, or None to run inline."""
        if not self.config.redis_url:
            return None
        if self.parent is not None:
            return self.parent.redis()  # one connection pool for every church
        if "redis" not in self.cache:
            from redis import Redis

            # A Redis that is down (or a firewall that drops the packets) costs each look a few
            # seconds, not the minutes of the OS's own connect timeout.
            self.cache["redis"] = Redis.from_url(
                self.config.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT
            )
        return cast("Redis", self.cache["redis"])


def _remember_setting(db: SQLAlchemy, Setting: Any, key: str, value: str) -> None:
    """Store a setting in a transaction of its own: the caller's pending changes are the
    caller's to commit. Two processes learning the same id at once store the same value."""
    table = Setting.__table__
    try:
        with db.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == key))
            connection.execute(insert(table).values(key=key, value=value, updated_at=utcnow()))
    except IntegrityError:
        pass  # another process stored it first


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def current_pco() -> PcoState:
    """The flask-pco state of the current app (of its current church, on a site of many); a
    clear error when the extension is missing."""
    try:
        state: PcoState = current_app.extensions["pco"]
    except KeyError:
        raise ConfigError(
            "flask-pco is not set up on this app: call PCO(db).init_app(app)"
        ) from None
    # A site of many churches: the church in use (a job's, a command's), else the request's.
    return state.for_organization(current_organization(state.extension._organization_loader))
