"""``flask --app example_app db ...``: Flask-Migrate, loaded when a migration is asked for.

Flask-Migrate imports Alembic (a fifth of a second) as soon as it is imported. Every other
command (a sync, ``flask pco status``, the web process) has no use for it, so the app registers
two stand-ins: a ``db`` command group that imports Flask-Migrate's own when one of its commands
runs, and an ``app.extensions["migrate"]`` entry that sets Flask-Migrate up on first use (for
code that calls ``flask_migrate.upgrade()`` directly, as the tests do).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy

#: Where the Alembic scripts of example_app and the extension's tables live.
MIGRATIONS = Path(__file__).parent.parent / "migrations"


def init_migrations(app: Flask, db: SQLAlchemy) -> None:
    """Offer ``flask db`` and Flask-Migrate's functions without importing them now."""
    app.extensions["migrate"] = _MigrateOnFirstUse(app, db)
    app.cli.add_command(MigrationCommands("db", help="Database migrations (Flask-Migrate)."))


def _set_up(app: Flask, db: SQLAlchemy) -> Any:
    from flask_migrate import Migrate

    Migrate().init_app(app, db, directory=str(MIGRATIONS))  # replaces the stand-ins
    return app.extensions["migrate"]


class _MigrateOnFirstUse:
    """Stands in ``app.extensions["migrate"]`` until Flask-Migrate reads it."""

    def __init__(self, app: Flask, db: SQLAlchemy) -> None:
        self._app = app
        self._db = db

    def set_up(self) -> Any:
        """Set Flask-Migrate up for the app; its own entry replaces this one."""
        return _set_up(self._app, self._db)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.set_up(), name)


class MigrationCommands(click.Group):
    """``flask db``: stands in for Flask-Migrate's command group, which it imports and hands the
    command line to when ``flask db ...`` runs (its options and the ``g`` values its commands
    read come from its own group)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        migrate = current_app.extensions["migrate"]
        if isinstance(migrate, _MigrateOnFirstUse):
            migrate.set_up()
        from flask_migrate.cli import db as group

        return group.make_context(info_name, args, parent=parent, **extra)
