"""``flask pco ...``: a thin Click skin over ``sync/`` and ``jobs/``.

Each module here holds the commands of one concern and imports what they need at its top;
the group loads a module only when one of its commands runs (Click's lazy subcommands), so
``flask pco config`` does not pay for RQ and Redis. Every failure a user can fix (bad
arguments, missing configuration, PCO refusing the credentials, a sync already running, a
database or Redis that does not answer) ends as one line and exit code 1.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from flask_pco.cli.common import database_problem, redis_problem_line
from flask_pco.exceptions import PcoError
from flask_pco.redaction import first_line
from flask_pco.tenancy import use_organization

__all__ = ["pco_cli"]

#: Command name -> the module holding it (in its ``commands`` group, or as ``attribute``), and
#: the summary ``flask pco --help`` lists, so the listing imports none of them (a test keeps
#: each summary equal to its command's own).
COMMANDS: dict[str, tuple[str, str | None, str]] = {
    "sync": (
        "flask_pco.cli.runs",
        None,
        "Pull from PCO: TYPE is campuses, people, families, groups, events, locations or full.",
    ),
    "push": (
        "flask_pco.cli.runs",
        None,
        "Push local changes to PCO: TYPE is people, families, group-memberships or full.",
    ),
    "status": ("flask_pco.cli.runs", None, "Show the sync in progress and the latest runs."),
    "cancel": (
        "flask_pco.cli.runs",
        None,
        "Cancel RUN_ID (default: the sync in progress); it stops at its next batch boundary.",
    ),
    "approve": (
        "flask_pco.cli.records",
        None,
        "Make the removals RUN_ID holds for approval (or refuse them with --refuse).",
    ),
    "issues": (
        "flask_pco.cli.records",
        None,
        "List held matches waiting for a decision, then the latest records a sync or webhook "
        "skipped or could not write, and why.",
    ),
    "resolve": (
        "flask_pco.cli.records",
        None,
        "Settle a held person match (see `flask pco issues`): link a candidate, or create new.",
    ),
    "merge": (
        "flask_pco.cli.records",
        None,
        "Carry out a merge held for an admin (PCO_AUTO_MERGE off; see `flask pco issues`): the "
        "site's data moves to the person PCO kept, the other is deactivated and points at them.",
    ),
    "history": (
        "flask_pco.cli.journal",
        None,
        "What changed for one local person (and their emails and phones): when, on which side, "
        "and by which run or webhook delivery, oldest first.",
    ),
    "changes": (
        "flask_pco.cli.journal",
        None,
        "The changes run RUN_ID made (a full run: those of its steps), in the order made.",
    ),
    "undo": (
        "flask_pco.cli.undo",
        None,
        "Revert finished run RUN_ID from its journal, as a new run that can be undone in turn.",
    ),
    "test-connection": (
        "flask_pco.cli.connection",
        None,
        "Check the PCO credentials: print the organisation and the rate-limit budget.",
    ),
    "schedule": (
        "flask_pco.cli.service",
        None,
        "Show or set the nightly sync (run by `flask pco scheduler`).",
    ),
    "worker": (
        "flask_pco.cli.service",
        None,
        "Run an RQ worker for flask-pco's jobs inside this app (PCO_REDIS_URL, PCO_QUEUE).",
    ),
    "scheduler": (
        "flask_pco.cli.service",
        None,
        "Run RQ's cron scheduler for the nightly sync set by `flask pco schedule`.",
    ),
    "config": (
        "flask_pco.cli.connection",
        None,
        "Show the effective flask-pco configuration, without secrets.",
    ),
    "webhooks": ("flask_pco.cli.webhooks", None, "PCO webhook subscriptions for this site."),
    "health": (
        "flask_pco.cli.health",
        None,
        "Say how the sync is doing: healthy, degraded, failing or stale, and why (exit 1 unless "
        "healthy).",
    ),
    # An optional part of the package: left out of the list when it cannot be imported.
    "sandbox": (
        "flask_pco.sandbox.cli",
        "sandbox_command",
        "Run a local emulator of the Planning Center API.",
    ),
}


class PcoGroup(AppGroup):
    """The ``flask pco`` group: each command's module is imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _installed(COMMANDS[name][0]))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from ``COMMANDS``: importing every command's module (RQ, the sandbox)
        to print one line each would make ``flask pco --help`` the slowest command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, _summary(name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute, _summary = COMMANDS[name]
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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command, checked to name its church on a site of many (``cli.churches``)."""
        name, command, rest = super().resolve_command(ctx, args)
        from flask_pco.cli.churches import require_church

        require_church(ctx, name, rest)
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        """Any command's flask-pco, database or Redis failure ends as one line, not a
        traceback. The command works for the church ``--organization`` names."""
        try:
            with use_organization(ctx.params.get("organization")):
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


def _summary(name: str) -> click.Command:
    """A stand-in for the command that knows only its summary, shortened as Click shortens."""
    return click.Command(name, help=COMMANDS[name][2])


def _installed(module_name: str) -> bool:
    """Whether the module ships with this install, found without importing it or its package
    (``find_spec`` of a submodule would import the package: the whole sandbox app)."""
    package, _, leaf = module_name.rpartition(".")
    try:
        spec = importlib.util.find_spec(package)
    except ImportError:  # a package above it is missing
        return False
    places = (spec.submodule_search_locations or []) if spec is not None else []
    return any((Path(place) / f"{leaf}.py").is_file() for place in places)


pco_cli = PcoGroup(
    "pco",
    help="Sync this site with Planning Center Online.",
    params=[
        click.Option(
            ["--organization"],
            envvar="PCO_ORGANIZATION",
            metavar="ID",
            help="On a site of many churches: the church to work for, by the site's own id "
            "for it (what its organisation loader returns).",
        )
    ],
)


def __getattr__(name: str) -> Any:
    """``from flask_pco.cli import sync_command`` and the like, as when this was one module."""
    command_name = name.rsplit("_", 1)[0].replace("_", "-")
    if name.endswith(("_command", "_group")) and command_name in COMMANDS:
        command = pco_cli.get_command(click.Context(pco_cli), command_name)
        if command is not None:
            return command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
