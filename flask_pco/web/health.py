"""The Health section's actions on the admin page: retry a group of failed records, ignore it,
or download it as CSV. Routes of the admin blueprint (its access check and CSRF apply).

As in ``web/admin.py``, the job layer is imported inside the routes: the app starts without
loading RQ and the sync modules, which only a request that uses them needs.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort

from flask_pco.exceptions import PcoError
from flask_pco.state import current_pco
from flask_pco.web.admin import admin_blueprint, respond

__all__: list[str] = []


@admin_blueprint.post("/health/<key>/retry")
def retry_group_route(key: str) -> Any:
    """Run again the sync that left these records: it meets them first thing."""
    from flask_pco.jobs.health import find_group
    from flask_pco.jobs.queue import start_sync

    state = current_pco()
    group = find_group(state, key)
    if group is None:
        return respond("That group is gone: a later run dealt with it.", "_health")
    direction, sync_type = (
        ("pull", "people") if group.direction == "webhook" else (group.direction, group.sync_type)
    )
    try:
        run = start_sync(
            direction,  # type: ignore[arg-type]
            sync_type,
            trigger="admin",
            mode="auto" if state.redis() is not None else "thread",
        )
    except PcoError as error:
        return respond(str(error), "_health", level="error")
    return respond(
        f"Retrying {group.count} records: started {direction} {sync_type} (run {run.id}).",
        "_health", "_actions", "_progress", "_history", focus="pco-progress-title",
    )  # fmt: skip


@admin_blueprint.post("/health/<key>/ignore")
def ignore_group_route(key: str) -> Any:
    """The admin has seen these: they leave the Health section until a run meets them again."""
    from flask_pco.jobs.health import ignore_group

    dismissed = ignore_group(current_pco(), key)
    return respond(f"Ignored {dismissed} records.", "_health", "_issues", focus="pco-health-title")


@admin_blueprint.get("/health/<key>.csv")
def group_csv_route(key: str) -> Response:
    from flask_pco.jobs.health import group_csv

    content = group_csv(current_pco(), key)
    if content is None:
        abort(404)
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="pco-failures-{key}.csv"'},
    )
