"""The CLI on a site of many churches: a command that works for one church needs to be told
which (``--organization``); run without it, it stops before touching anything, naming the
option and the connected churches' ids, instead of working for a site-wide "church" that has
no PCO connection (or, worse, would read and write every church's rows at once)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from flask_pco.jobs.churches import connected_churches

__all__ = ["SITE_COMMANDS", "require_church"]

#: Commands of the whole site (its workers, its configuration, a sandbox), not of one church.
SITE_COMMANDS = frozenset({"worker", "scheduler", "config", "sandbox"})
#: How many connected churches' ids the refusal lists.
SHOWN = 20


def require_church(ctx: click.Context, name: str | None, args: list[str]) -> None:
    """Refuse a church's command on a site of many without ``--organization``."""
    if name in SITE_COMMANDS or ctx.params.get("organization") or "--help" in args:
        return
    app = _app(ctx)
    state = app.extensions.get("pco") if app is not None else None
    if app is None or state is None or state.extension._organization_loader is None:
        return
    with app.app_context():
        churches = connected_churches(state)
    shown = ", ".join(churches[:SHOWN]) + (", ..." if len(churches) > SHOWN else "")
    raise click.UsageError(
        f"this site serves many churches: say which one `flask pco {name}` is for with "
        f"`flask pco --organization ID {name} ...` (or PCO_ORGANIZATION=ID), ID being the "
        "site's id of the church, as its organisation loader returns it; churches connected "
        f"to Planning Center: {shown or 'none yet'}",
        ctx,
    )


def _app(ctx: click.Context) -> Flask | None:
    info = ctx.find_object(ScriptInfo)
    if info is not None:
        try:
            return info.load_app()
        except Exception:  # the command itself reports a broken app
            return None
    return current_app._get_current_object() if current_app else None  # type: ignore[attr-defined]
