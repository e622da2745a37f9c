"""``flask pco ...``: a thin Click skin over ``sync/`` and ``jobs/``.

Each module here holds the commands of one concern and imports what they need at its top;
the group loads a module only when one of its commands runs (Click's lazy subcommands), so
``flask pco config`` does not pay for RQ and Redis. Every failure a user can fix (bad
arguments, missing configuration, PCO refusing the credentials, a sync already running, a
database or Redis that does not answer) ends as one line and exit code 1.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from flask_pco.cli.common import database_problem, redis_problem_line
from flask_pco.exceptions import PcoError
from flask_pco.redaction import first_line

__all__ = ["pco_cli"]

#: Command name -> the module holding it (in its ``commands`` group, or as ``attribute``).
COMMANDS: dict[str, tuple[str, str | None]] = {
    "sync": ("flask_pco.cli.runs", None),
    "push": ("flask_pco.cli.runs", None),
    "status": ("flask_pco.cli.runs", None),
    "cancel": ("flask_pco.cli.runs", None),
    "approve": ("flask_pco.cli.records", None),
    "issues": ("flask_pco.cli.records", None),
    "resolve": ("flask_pco.cli.records", None),
    "merge": ("flask_pco.cli.records", None),
    "history": ("flask_pco.cli.journal", None),
    "changes": ("flask_pco.cli.journal", None),
    "test-connection": ("flask_pco.cli.connection", None),
    "schedule": ("flask_pco.cli.service", None),
    "worker": ("flask_pco.cli.service", None),
    "scheduler": ("flask_pco.cli.service", None),
    "config": ("flask_pco.cli.connection", None),
    "webhooks": ("flask_pco.cli.webhooks", None),
    "health": ("flask_pco.cli.health", None),
    # An optional part of the package: left out of the list when it cannot be imported.
    "sandbox": ("flask_pco.sandbox.cli", "sandbox_command"),
}


class PcoGroup(AppGroup):
    """The ``flask pco`` group: each command's module is imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self.get_command(ctx, name) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if attribute is None:
                raise  # a part of the CLI itself is broken: say so, do not hide the command
            return None
        if attribute is not None:
            command: click.Command | None = getattr(module, attribute, None)
            return command
        group: AppGroup = module.commands
        return group.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        """Any command's flask-pco, database or Redis failure ends as one line, not a
        traceback."""
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            raise click.ClickException(database_problem(error)) from None
        except PcoError as error:
            raise click.ClickException(first_line(error)) from None
        except Exception as error:
            line = redis_problem_line(error)
            if line is None:
                raise
            raise click.ClickException(line) from None


pco_cli = PcoGroup("pco", help="Sync this site with Planning Center Online.")


def __getattr__(name: str) -> Any:
    """``from flask_pco.cli import sync_command`` and the like, as when this was one module."""
    command_name = name.rsplit("_", 1)[0].replace("_", "-")
    if name.endswith(("_command", "_group")) and command_name in COMMANDS:
        command = pco_cli.get_command(click.Context(pco_cli), command_name)
        if command is not None:
            return command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
