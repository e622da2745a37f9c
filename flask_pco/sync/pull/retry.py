"""People a pull could not write are tried again by the next pull, on their own.

A person the database refused ("not written": a value longer than a column the site has since
widened, a constraint it has since relaxed) has not changed in PCO, so an incremental pull,
which reads only what changed, would leave them until the next full pull. After its listing,
each pull therefore fetches again the people earlier runs left behind (one GET each; there are
rarely any), at most ``MAX_ATTEMPTS`` times; after that they stay in the Health section for an
admin. A person written at last has those issues closed (``retried``); one an admin chose to
ignore is not tried again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DataError, IntegrityError

from flask_pco.models import utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.pull.people import apply_person, fetch_person
from flask_pco.sync.rows import NOT_WRITTEN, not_written

__all__ = ["MAX_ATTEMPTS", "left_behind", "retry_left_behind"]

#: Runs that may try one person again before it waits for an admin.
MAX_ATTEMPTS = 3
LEFT_BEHIND = NOT_WRITTEN + "%"


def _open_issues(ctx: SyncContext) -> tuple[Any, ...]:
    Issue = ctx.models.SyncIssue
    return (
        Issue.resource_type == "Person",
        Issue.kind == "invalid",
        Issue.reason.like(LEFT_BEHIND),
        Issue.resolved_at.is_(None),
        Issue.pco_id.is_not(None),
    )


def left_behind(ctx: SyncContext) -> set[str]:
    """PCO ids of the people earlier runs could not write and no run has written since."""
    Issue = ctx.models.SyncIssue
    return set(ctx.session.scalars(select(Issue.pco_id).where(*_open_issues(ctx)).distinct()))


def retry_left_behind(ctx: SyncContext, listed: Collection[str]) -> int:
    """Close the issues of people this run wrote, then try the others again; how many went
    through this time."""
    Issue = ctx.models.SyncIssue
    open_issues = _open_issues(ctx)
    this_run = {ctx.report.run.id, ctx.report.run.parent_id} - {None}
    attempts = dict(
        ctx.session.execute(
            select(Issue.pco_id, func.count()).where(*open_issues).group_by(Issue.pco_id)
        ).all()
    )
    refused_now = set(
        ctx.session.scalars(select(Issue.pco_id).where(*open_issues, Issue.run_id.in_(this_run)))
    )
    written = [p for p in attempts if p in listed and p not in refused_now]
    again = [p for p in attempts if p not in listed and attempts[p] <= MAX_ATTEMPTS]
    written += [pco_id for pco_id in again if _try_again(ctx, pco_id)]
    if written:
        ctx.session.execute(
            update(Issue)
            .where(*open_issues, Issue.pco_id.in_(written))
            .values(resolved_at=utcnow(), resolution="retried")
        )
    ctx.session.commit()
    return len(written)


def _try_again(ctx: SyncContext, pco_id: str) -> bool:
    person = fetch_person(ctx, pco_id)
    if person is None:
        return False  # PCO no longer has them: the removal rules deal with it
    try:
        outcome = apply_person(ctx, person)
        ctx.session.commit()
    except (DataError, IntegrityError) as error:
        ctx.session.rollback()
        ctx.report.issue("invalid", "Person", not_written(error), pco_id=pco_id)
        return False
    if outcome in ("created", "updated"):
        ctx.report.count(outcome)
    return outcome not in ("skipped", "held")
