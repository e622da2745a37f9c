"""The ``PCO`` extension object: configuration, registration and per-app state."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request

from .config import DEFAULTS, PcoConfig, load_config
from .exceptions import ConfigError
from .models import DEFAULT_FIELDS, ROLES, PcoModels, Roles, define_models
from .roles import check_models

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from redis import Redis

    from .client import PcoClient

__all__ = ["PCO", "AccessCheck", "PcoState", "current_pco"]

#: Decides whether the current request may use the admin page: ``True`` allows, ``False``
#: answers 403, and a response (a login redirect, say) is returned as it is.
AccessCheck = Callable[[], Any]


class PCO:
    """Two-way sync between this Flask site and Planning Center Online.

    ``pco = PCO(db)`` then ``pco.init_app(app)``, or ``PCO(db, app)``. Per-app state lives in
    ``app.extensions["pco"]``; nothing app-specific is kept on this object, so one instance
    serves any number of apps.
    """

    def __init__(self, db: SQLAlchemy, app: Flask | None = None) -> None:
        self.db = db
        #: The extension's own tables, defined on the host's ``db``.
        self.models: PcoModels = define_models(db)
        self.roles = Roles(fields={role: dict(f) for role, f in DEFAULT_FIELDS.items()})
        self._admin_access: AccessCheck | None = None
        if app is not None:
            self.init_app(app)

    def register_models(
        self, *, fields: dict[str, dict[str, str]] | None = None, **classes: type[Any]
    ) -> None:
        """Say which host class plays which part (person, email, phone, family, ...).

        ``fields`` maps a role's logical field to the host's column name where they differ,
        for example ``fields={"person": {"dob": "birth_date"}}``.
        """
        for role in [*classes, *(fields or {})]:
            if role not in ROLES:
                raise ConfigError(f"unknown role {role!r}; the roles are: {', '.join(ROLES)}")
        for role, mapping in (fields or {}).items():
            unknown = set(mapping) - set(ROLES[role])
            if unknown:
                raise ConfigError(f"unknown {role} fields {sorted(unknown)}; known: {ROLES[role]}")
            self.roles.fields.setdefault(role, {}).update(mapping)
        self.roles.classes.update(classes)

    def admin_access(self, check: AccessCheck) -> AccessCheck:
        """Register the check that guards the admin page; without one it answers 403 to all."""
        self._admin_access = check
        return check

    def init_app(self, app: Flask) -> None:
        """Set config defaults, check them and the registered models, and register the
        blueprints and CLI. A mistake in either stops start-up with one line saying what to do."""
        if "pco" in app.extensions:
            raise RuntimeError(
                "flask-pco is already registered on this app. Call PCO(db).init_app(app) once "
                "per app; to change settings, set PCO_* keys in app.config before init_app."
            )
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, copy.deepcopy(value))
        if not app.config.get("SECRET_KEY"):
            raise ConfigError(
                "SECRET_KEY is not set: flask-pco's admin page signs its CSRF tokens with it"
            )
        config = load_config(app.config)
        check_models(self.roles)
        app.extensions["pco"] = PcoState(extension=self, config=config)

        from .admin import admin_blueprint
        from .cli import pco_cli
        from .readonly import readonly_blueprint
        from .webhook import webhook_blueprint

        app.register_blueprint(admin_blueprint)
        app.register_blueprint(readonly_blueprint)
        app.register_blueprint(webhook_blueprint)
        _exempt_webhook_from_csrf(app)
        app.cli.add_command(pco_cli)


def _exempt_webhook_from_csrf(app: Flask) -> None:
    """Keep the host's Flask-WTF ``CSRFProtect`` off the webhook route: PCO cannot send a token,
    and the route checks PCO's HMAC signature instead.

    ``CSRFProtect`` keeps its exemptions per instance, and the host may set it up before or
    after flask-pco. Before: exempt now. After: this app-level hook is registered first, so it
    runs before CSRFProtect's own and exempts the route in time.
    """
    from .webhook import webhook_blueprint

    def exempt(extensions: dict[str, Any]) -> None:
        csrf = extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(webhook_blueprint)

    exempt(app.extensions)

    @app.before_request
    def exempt_webhook_from_csrf() -> None:
        if request.blueprint == webhook_blueprint.name:
            exempt(current_app.extensions)


@dataclass
class PcoState:
    """What flask-pco keeps per app, in ``app.extensions["pco"]``."""

    extension: PCO
    config: PcoConfig
    #: Per-process objects built on first use (the HTTP client, the Redis connection).
    cache: dict[str, Any] = field(default_factory=dict)

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
        """The PCO client of this process: one connection pool and one share of the budget."""
        if "client" not in self.cache:
            config = self.config
            if not config.has_credentials:
                raise ConfigError(
                    "PCO credentials are not set: set PCO_APP_ID and PCO_SECRET (a Personal "
                    "Access Token), or point PCO_API_URL at `flask pco sandbox`"
                )
            from .client import build_client

            self.cache["client"] = build_client(
                base_url=config.api_url,
                app_id=config.app_id,
                secret=config.secret,
                access_token=config.access_token,
                versions=dict(config.api_versions),
                per_page=config.per_page,
                timeout=config.timeout,
                redis_url=config.redis_url,
                organization_key=config.organization_key,
                rate_limit=config.rate_limit,
                rate_period=config.rate_period,
            )
        return self.cache["client"]

    def redis(self) -> Redis | None:
        """The Redis connection for jobs and the shared budget, or None to run inline."""
        if not self.config.redis_url:
            return None
        if "redis" not in self.cache:
            from redis import Redis

            self.cache["redis"] = Redis.from_url(self.config.redis_url)
        return self.cache["redis"]


def current_pco() -> PcoState:
    """The flask-pco state of the current app; a clear error when the extension is missing."""
    try:
        state = current_app.extensions["pco"]
    except KeyError:
        raise ConfigError(
            "flask-pco is not set up on this app: call PCO(db).init_app(app)"
        ) from None
    return state
