"""A small church site that uses flask-pco: people, families, groups, logins with roles.

Configuration comes from the environment: ``SECRET_KEY`` (required), ``DATABASE_URL`` (default: a
SQLite file in the instance folder), and every ``PCO_*`` key of flask-pco (``settings_from_env``),
so a malformed one (``PCO_PER_PAGE=0``) stops start-up with one line instead of being ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import make_url

from flask_pco import PCO, ConfigError, settings_from_env

from .migrations import init_migrations
from .models import CUSTOM_FIELDS, MODEL_ROLES, User, db

#: Seconds a SQLite connection waits for another one's write lock before "database is locked".
#: Python's default is 5; a webhook storm with workers needs more (README, "Databases").
SQLITE_BUSY_TIMEOUT = 30

pco = PCO(db)
pco.register_models(**MODEL_ROLES, custom_fields=CUSTOM_FIELDS)
login_manager = LoginManager()
login_manager.login_view = "site.login"
csrf = CSRFProtect()


@pco.admin_access
def only_admins() -> Any:
    """Admins pass; other staff get 403; visitors are sent to the login page."""
    if not current_user.is_authenticated:
        return redirect(url_for("site.login", next=request.path))
    return bool(current_user.is_admin)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the site; a missing or malformed setting stops start-up with one line."""
    try:
        return _build(config or {})
    except ConfigError as error:
        raise SystemExit(f"example_app: {error}") from None


def _build(overrides: Mapping[str, Any]) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.update(settings_from_env())
    default_db = f"sqlite:///{Path(app.instance_path) / 'church.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or default_db
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY is not set: export SECRET_KEY=<a long random string>")

    _wait_for_sqlite_writers(app)
    db.init_app(app)
    _use_wal_on_sqlite(app)
    init_migrations(app, db)
    login_manager.init_app(app)
    csrf.init_app(app)
    pco.init_app(app)

    from .views import site

    app.register_blueprint(site)
    from .commands import create_admin_command
    from .demo import demo_command

    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)
    return app


def _is_sqlite(app: Flask) -> bool:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite"


def _wait_for_sqlite_writers(app: Flask) -> None:
    """SQLite lets one connection write at a time: make the others wait their turn long enough
    (a ``timeout`` the settings give in ``connect_args`` wins)."""
    if not _is_sqlite(app):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT, **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _use_wal_on_sqlite(app: Flask) -> None:
    """Write-ahead logging, so the web process and the workers read while one of them writes.

    The mode is stored in the database file; setting it again on each connection is a no-op.
    ``synchronous=NORMAL`` is SQLite's advice for WAL (and Rails' default): a commit no longer
    waits for the disk, only a checkpoint does. A killed process still loses nothing committed;
    a power cut may undo the last commits, never corrupt the file (a pull of 50,000 people
    commits 500 times: about 1 s less here).
    """
    if not _is_sqlite(app):
        return
    with app.app_context():
        event.listen(db.engine, "connect", _set_wal)


def _set_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
