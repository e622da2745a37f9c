"""Sync-log rows as the admin page shows them: live counts while a run runs, and each full
run's steps, so "Created 3,297" reads as "people 2,002, families 1,295" and the run numbers
the steps take (a full pull is six rows) are visible instead of gaps between runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.models import utcnow
from flask_pco.sync.context import OUTCOMES
from flask_pco.sync.runs import ACTIVE

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["RunView", "history", "last_failure", "run_view"]

#: A failed run stays on the page this long after later runs succeeded.
FAILURE_SHOWN_FOR = timedelta(days=7)

#: What "removed" means for a step's records, in the words an admin uses.
_REMOVED_WORD = {
    ("pull", "people"): "deactivated",
    ("pull", "families"): "unlinked or left",
    ("pull", "groups"): "left their group",
}
#: What a step's records are, for its summary.
_NOUN = {"people": "people", "families": "families", "groups": "groups and memberships"}


@dataclass(frozen=True, slots=True)
class RunView:
    """A sync-log row as the page shows it, with live counts while it runs."""

    id: int
    sync_type: str
    direction: str
    status: str
    trigger: str
    incremental: bool
    dry_run: bool
    current_step: str
    started_at: datetime | None
    finished_at: datetime | None
    created: int
    updated: int
    skipped: int
    failed: int
    requests_used: int
    error_message: str | None
    cancel_requested: bool
    #: Records gone through, of how many (None: not known yet); a full run's are its
    #: running step's.
    progress_done: int = 0
    progress_total: int | None = None
    removed: int = 0
    held: int = 0
    #: A full run's steps, in the order they ran (empty for a single step).
    steps: tuple[RunView, ...] = ()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def duration(self) -> str:
        if self.started_at is None:
            return ""
        seconds = int(((self.finished_at or utcnow()) - self.started_at).total_seconds())
        return str(timedelta(seconds=max(seconds, 0)))

    @property
    def summary(self) -> str:
        """What the step did, in words, naming only what happened: "people: 2,002 created,
        1,713 deactivated"; a step that changed nothing says so."""
        removed = _REMOVED_WORD.get((self.direction, self.sync_type), "removed")
        words = (
            ("created", "created"),
            ("updated", "updated"),
            ("removed", removed),
            ("skipped", "skipped"),
            ("held", "held for a decision"),
            ("failed", "failed"),
        )
        parts = [f"{getattr(self, name):,} {word}" for name, word in words if getattr(self, name)]
        noun = _NOUN.get(self.sync_type, self.sync_type)
        return f"{noun}: {', '.join(parts) if parts else 'nothing changed'}"


def run_view(state: PcoState, run: Any, steps: tuple[RunView, ...] = ()) -> RunView:
    """``run`` with the counts of its running step added: a full run's own counts only grow
    when a step ends, and an admin wants to see the step's records move."""
    counts = {name: getattr(run, name) or 0 for name in OUTCOMES}
    progress = (run.progress_done or 0, run.progress_total)
    if run.status == "running":
        SyncRun = state.models.SyncRun
        # Steps are created after their run, so ``id >`` confines the lookup to the few rows
        # written since it began, through the primary key (parent_id has no index).
        for child in state.db.session.scalars(
            select(SyncRun).where(
                SyncRun.id > run.id, SyncRun.parent_id == run.id, SyncRun.status == "running"
            )
        ):
            for name in counts:
                counts[name] += getattr(child, name) or 0
            progress = (child.progress_done or 0, child.progress_total)
    return RunView(
        id=run.id,
        sync_type=run.sync_type,
        direction=run.direction,
        status=run.status,
        trigger=run.trigger,
        incremental=bool(run.incremental),
        dry_run=bool(run.dry_run),
        current_step=run.current_step or "",
        started_at=run.started_at,
        finished_at=run.finished_at,
        requests_used=run.requests_used or 0,
        error_message=run.error_message,
        cancel_requested=bool(run.cancel_requested),
        progress_done=progress[0],
        progress_total=progress[1],
        steps=steps,
        **counts,
    )


def history(state: PcoState, length: int) -> list[RunView]:
    """The latest ``length`` top-level runs, newest first, each with its steps: two queries
    whatever the number of runs."""
    SyncRun = state.models.SyncRun
    session = state.db.session
    runs = session.scalars(
        select(SyncRun).where(SyncRun.parent_id.is_(None)).order_by(SyncRun.id.desc()).limit(length)
    ).all()
    steps: dict[int | None, list[RunView]] = {}
    if runs:
        # Steps come after their run, so the id range bounds the lookup by the primary key.
        children = session.scalars(
            select(SyncRun)
            .where(SyncRun.id > runs[-1].id, SyncRun.parent_id.in_([r.id for r in runs]))
            .order_by(SyncRun.id)
        )
        for child in children:
            steps.setdefault(child.parent_id, []).append(run_view(state, child))
    return [run_view(state, run, tuple(steps.get(run.id, ()))) for run in runs]


def last_failure(state: PcoState) -> RunView | None:
    """The latest failed top-level run of the last week, so a failure stays in sight after a
    later run succeeds (the church may still miss what it did not bring in)."""
    SyncRun = state.models.SyncRun
    run = state.db.session.scalars(
        select(SyncRun)
        .where(
            SyncRun.parent_id.is_(None),
            SyncRun.status == "failed",
            SyncRun.queued_at >= utcnow() - FAILURE_SHOWN_FOR,
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    return run_view(state, run) if run is not None else None
