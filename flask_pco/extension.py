"""The ``PCO`` extension object: where a host site wires flask-pco in.

The top of the package: it registers the web blueprints and the CLI on the app, and nothing
imports it back (per-app state lives in ``flask_pco.state``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request

from flask_pco import logfields
from flask_pco.config import DEFAULTS, load_config
from flask_pco.exceptions import ConfigError
from flask_pco.models import DEFAULT_FIELDS, ROLES, PcoModels, Roles, define_models
from flask_pco.roles import check_models
from flask_pco.state import AccessCheck, PcoState, current_pco
from flask_pco.tenancy import (
    OrganizationLoader,
    check_organization_column,
    enter_request,
    install_filters,
    leave_request,
    use_organization,
)

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

# ``PcoState`` and ``current_pco`` are re-exported: hosts have imported them from here.
__all__ = ["PCO", "AccessCheck", "AlertMailer", "PcoState", "current_pco", "use_organization"]

#: Sends one alert email with the host's own mail set-up: ``(recipients, subject, body)``.
AlertMailer = Callable[[list[str], str, str], Any]


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
        self._alert_mailer: AlertMailer | None = None
        self._organization_loader: OrganizationLoader | None = None
        self._filters_installed = False
        if app is not None:
            self.init_app(app)

    def register_models(
        self,
        *,
        fields: dict[str, dict[str, str]] | None = None,
        custom_fields: dict[str, dict[Any, str]] | None = None,
        rules: dict[str, dict[str, Any]] | None = None,
        organization_column: str | None = None,
        **classes: type[Any],
    ) -> None:
        """Say which host class plays which part (person, email, phone, family, ...).

        ``fields`` maps a role's logical field to the host's column name where they differ,
        for example ``fields={"person": {"dob": "birth_date"}}``. ``custom_fields`` maps PCO
        custom fields (by name or FieldDefinition id) to host columns, ``{"person":
        {"T-shirt size": "shirt_size"}}``; ``rules`` chooses how a field syncs, ``{"person":
        {"gender": "local_wins"}}`` (``flask_pco.field_rules``). Both are checked at
        ``init_app``. A site of many churches names the column that says whose each row is,
        ``organization_column="church_id"``: every sync query then keeps to the current
        church's rows, and new rows get its id.
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
        if organization_column is not None:
            self.roles = dataclasses.replace(self.roles, organization_column=organization_column)
        for role, by_pco in (custom_fields or {}).items():
            mapped = {column: str(key) for key, column in by_pco.items()}
            self.roles.custom.setdefault(role, {}).update(mapped)
        for role, by_field in (rules or {}).items():
            self.roles.rules.setdefault(role, {}).update(by_field)
        self.roles.changed()

    def admin_access(self, check: AccessCheck) -> AccessCheck:
        """Register the check that guards the admin page; without one it answers 403 to all."""
        self._admin_access = check
        return check

    def organization_loader(self, loader: OrganizationLoader) -> OrganizationLoader:
        """Register how a request names its church (a site of many churches): ``loader()``
        returns the host's id for the current church (letters, digits, ``_``, ``-``), or None.
        The admin page, its jobs and its settings are then that church's alone."""
        self._organization_loader = loader
        if not self._filters_installed:
            install_filters(self)
            self._filters_installed = True
        return loader

    def alert_mailer(self, send: AlertMailer) -> AlertMailer:
        """Register how ``PCO_ALERT_EMAILS`` alerts are sent, ``send(recipients, subject,
        body)``, so they leave through the site's own mail set-up; without one, Flask-Mail or
        Flask-Mailman is used if the app has it."""
        self._alert_mailer = send
        return send

    def init_app(self, app: Flask) -> None:
        """Set config defaults, check them and the registered models, and register the
        blueprints and CLI. A mistake in either stops start-up with one line saying what to do."""
        if "pco" in app.extensions:
            raise RuntimeError(
                "flask-pco is already registered on this app. Call PCO(db).init_app(app) once "
                "per app; to change settings, set PCO_* keys in app.config before init_app."
            )
        logfields.install()
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, copy.deepcopy(value))
        if not app.config.get("SECRET_KEY"):
            raise ConfigError(
                "SECRET_KEY is not set: flask-pco's admin page signs its CSRF tokens with it"
            )
        config = load_config(app.config)
        check_models(self.roles)
        check_organization_column(self.roles)
        app.extensions["pco"] = PcoState(extension=self, config=config)

        from flask_pco.cli import pco_cli
        from flask_pco.web import (  # noqa: F401  (add routes to the blueprint)
            admin_webhooks,
            changes,
            health,
            oauth,
            preview,
            undo,
        )
        from flask_pco.web.admin import admin_blueprint
        from flask_pco.web.readonly import readonly_blueprint
        from flask_pco.web.webhook import webhook_blueprint

        app.register_blueprint(admin_blueprint)
        app.register_blueprint(readonly_blueprint)
        app.register_blueprint(webhook_blueprint)
        if config.metrics_token:
            from flask_pco.web.metrics import metrics_blueprint  # the optional ``metrics`` extra

            app.register_blueprint(metrics_blueprint)
        _exempt_webhook_from_csrf(app)
        _use_the_requests_church(app, self, (admin_blueprint.name, readonly_blueprint.name))
        app.cli.add_command(pco_cli)


def _use_the_requests_church(app: Flask, pco: PCO, blueprints: tuple[str, ...]) -> None:
    """The admin pages of a site of many churches work for the church the host's loader
    names; the host's own pages are never filtered (``flask_pco.tenancy``)."""

    @app.before_request
    def use_the_church() -> None:
        if request.blueprint in blueprints:
            enter_request(pco._organization_loader)

    @app.teardown_request
    def leave_the_church(_error: BaseException | None) -> None:
        leave_request()


def _exempt_webhook_from_csrf(app: Flask) -> None:
    """Keep the host's Flask-WTF ``CSRFProtect`` off the webhook route: PCO cannot send a token,
    and the route checks PCO's HMAC signature instead.

    ``CSRFProtect`` keeps its exemptions per instance, and the host may set it up before or
    after flask-pco. Before: exempt now. After: this app-level hook is registered first, so it
    runs before CSRFProtect's own and exempts the route in time.
    """
    from flask_pco.web.webhook import webhook_blueprint

    def exempt(extensions: dict[str, Any]) -> None:
        csrf = extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(webhook_blueprint)

    exempt(app.extensions)

    @app.before_request
    def exempt_webhook_from_csrf() -> None:
        if request.blueprint == webhook_blueprint.name:
            exempt(current_app.extensions)
