"""Undo: a finished run (or a webhook delivery) reverted from its journal, as a new run.

The undo is a run like any other (direction ``undo``, type ``run`` or ``delivery``, the
target in its options), so it takes the organisation's run slot, is journaled (and can be
undone in turn), and has a dry run: the preview the CLI and the admin page show first. Its
entries are reverted newest first; local ones in ``local``, PCO ones in ``remote``, merges in
``merges``. Nothing changed since the run is overwritten: such a field becomes a conflict.

Imports the shared sync modules only; the engine finds the steps by importing this package.
"""

from __future__ import annotations

from typing import Any

from flask_pco.exceptions import ConfigError
from flask_pco.sync.context import SyncContext
from flask_pco.sync.custom_fields import unsettle_fields
from flask_pco.sync.engine import step
from flask_pco.sync.undo.local import undo_local
from flask_pco.sync.undo.merges import undo_merge
from flask_pco.sync.undo.page import flush_deletes, forget_pointing, reverting_page
from flask_pco.sync.undo.pco_now import read_pco_now
from flask_pco.sync.undo.remote import undo_remote
from flask_pco.sync.undo.removals import mark_removals_undone
from flask_pco.sync.undo.target import Target, check_undoable, find_target

__all__ = ["Target", "check_undoable", "undo_options"]

#: Entries reverted between two commits (and progress checkpoints): one page, whose rows are
#: read in one query per role and whose deletes are made in one statement per table.
_BATCH = 500


def undo_options(
    *, run_id: int | None = None, delivery_id: int | None = None, delete_created: bool = False
) -> tuple[str, dict[str, Any]]:
    """(sync type, options) of the undo run that reverts ``run_id`` or ``delivery_id``."""
    if delivery_id is not None:
        return "delivery", {"delivery_id": int(delivery_id), "delete_created": delete_created}
    if run_id is None:
        raise ConfigError("undo needs a run id or a webhook delivery id")
    return "run", {"run_id": int(run_id), "delete_created": delete_created}


@step("undo", "run")
def undo_run(ctx: SyncContext) -> None:
    """Revert the run named in the options."""
    _undo(ctx, find_target(ctx.state, ctx.session, run_id=int(ctx.options["run_id"])))


@step("undo", "delivery")
def undo_delivery(ctx: SyncContext) -> None:
    """Revert the webhook delivery named in the options."""
    delivery_id = int(ctx.options["delivery_id"])
    _undo(ctx, find_target(ctx.state, ctx.session, delivery_id=delivery_id))


def _undo(ctx: SyncContext, target: Target) -> None:
    ctx.report.step(f"undo {target.name}")
    ctx.report.expect(target.total)
    now = read_pco_now(ctx, target)
    delete_created = bool(ctx.options.get("delete_created"))
    for entries in target.newest_first(ctx.session, _BATCH):
        with reverting_page(ctx, entries):  # what they name read at once, deletes at the end
            for entry in entries:
                _revert(ctx, target, entry, now, delete_created)
                ctx.report.advance()
        ctx.session.commit()
        ctx.report.checkpoint()
    mark_removals_undone(ctx, target)
    unsettle_fields(ctx)  # snapshots from before a newly mapped field may be back
    ctx.session.commit()


def _revert(ctx: SyncContext, target: Target, entry: Any, now: Any, delete_created: bool) -> None:
    if entry.action == "create" and entry.side == "local":
        undo_local(ctx, target, entry)  # its deletes wait for the page's end
        return
    flush_deletes(ctx)  # what follows may read the database, or commit (a write to PCO)
    if entry.action in ("merge", "remove"):
        forget_pointing(ctx)  # rows moved back or put back: who points at whom changes
    if entry.action == "merge":
        undo_merge(ctx, target, entry)
    elif entry.side == "pco":
        undo_remote(ctx, target, entry, now, delete_created=delete_created)
    else:
        undo_local(ctx, target, entry)
