"""What a sync step is handed while its run is in progress: the ``SyncContext``, and the
``RunReporter`` that counts outcomes.

``RunReporter`` keeps the counts in memory and writes them to the run row at batch boundaries
(``checkpoint``), at most every ``flush_every`` seconds; that is also where the heartbeat is
stamped and an admin's cancel request is noticed. ``reporting`` closes the row with the right
status whatever way the body ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from flask_pco.exceptions import PcoError, SyncCancelledError
from flask_pco.logfields import log_context
from flask_pco.models import Outcome, utcnow
from flask_pco.redaction import redact
from flask_pco.sync.runs import finish_run
from flask_pco.sync.slices import POSITION_OPTION, SliceEnded, Slicer

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.config import PcoConfig
    from flask_pco.models import PcoModels, Roles
    from flask_pco.state import PcoState

__all__ = ["OUTCOMES", "RunReporter", "SyncContext", "counts_text", "reporting"]

#: What a run counts, in the order every summary lists them.
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "removed", "skipped", "held", "failed")
#: Issue kinds that wait for an admin's decision, listed once per record until resolved: an
#: ambiguous match, and a merge of two local people the site does not make by itself.
HELD = ("ambiguous", "merged")
#: How an issue counts when its caller does not say: a record waiting for an admin is held; one
#: PCO refused or no longer has was not written although the run meant to, so it failed (and
#: the CLI exits 4); anything else (bad data, a record left on purpose) is skipped.
KIND_OUTCOMES: dict[str, Outcome] = {
    "ambiguous": "held",
    "merged": "held",
    "held": "held",
    "rejected": "failed",
    "failed": "failed",
}


#: How often, at most, the progress of a listing's pages reaches the run row (seconds).
PAGE_FLUSH = 0.25


@dataclass
class RunReporter:
    """Counts one run's outcomes and writes them, the current step and a heartbeat to its row."""

    state: PcoState
    run: Any
    requests: Callable[[], int] = lambda: 0
    flush_every: float = 2.0
    clock: Callable[[], float] = time.monotonic
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    #: Records gone through, and how many are expected (None: not known yet).
    done: int = 0
    total: int | None = None
    _last_flush: float = field(default=float("-inf"))
    _requests_at_start: int = 0
    #: The row's id and parent, which never change: read once, not reloaded after each commit.
    _run_id: int | None = None
    _parent_id: int | None = None
    #: Where issues are written: the steps' session (a dry run's scratch), not the run row's.
    records: Any = None
    #: Ends the run's slice at a record boundary (``sync.slices``); None: never.
    slicer: Slicer | None = None

    def __post_init__(self) -> None:
        self._requests_at_start = self.requests()
        self._run_id, self._parent_id = self.run.id, self.run.parent_id

    #: Why the run waits for an admin (removals over the cap), or None: it ends needs_approval.
    approval: str | None = None

    @property
    def run_id(self) -> int | None:
        return self._run_id

    @property
    def _records(self) -> Any:
        return self.records if self.records is not None else self.state.db.session

    def count(self, outcome: Outcome, n: int = 1) -> None:
        self.counts[outcome] += n

    def wait_for_approval(self, message: str) -> None:
        """The run goes on, but ends ``needs_approval`` with ``message`` (the last one wins)."""
        self.approval = message if self.approval is None else f"{self.approval}; {message}"

    def expect(self, n: int | None) -> None:
        """Add ``n`` records to those the run will go through (a listing's ``total_count``);
        None (PCO did not say) leaves the total as it was."""
        if n is not None:
            self.total = (self.total or 0) + n

    def advance(self, n: int = 1) -> None:
        """``n`` more records gone through, whatever their outcome."""
        self.done += n

    def issue(
        self,
        kind: str,
        resource_type: str,
        reason: str,
        *,
        pco_id: str | None = None,
        local_id: int | None = None,
        candidates: tuple[int, ...] | list[int] = (),
        outcome: Outcome | None = None,
    ) -> None:
        """Record a record the run could not apply, with the reason an admin will read.

        A record held for an admin is listed once however many runs meet it: an unresolved
        hold is brought up to date (this run, its reason and candidates) rather than repeated.
        It counts as ``KIND_OUTCOMES`` says (``skipped`` for other kinds) unless ``outcome``
        says otherwise.
        """
        reason = redact(reason)[:2000]
        details = {"run_id": self._run_id, "reason": reason, "candidates": list(candidates)}
        held = self._open_hold(kind, resource_type, pco_id, local_id) if kind in HELD else None
        if held is None:
            self._records.add(
                self.state.models.SyncIssue(
                    kind=kind,
                    resource_type=resource_type,
                    pco_id=pco_id,
                    local_id=local_id,
                    **details,
                )
            )
        else:
            for name, value in details.items():
                setattr(held, name, value)
        self.count(outcome or KIND_OUTCOMES.get(kind, "skipped"))

    def _open_hold(
        self, kind: str, resource_type: str, pco_id: str | None, local_id: int | None
    ) -> Any | None:
        Issue = self.state.models.SyncIssue
        return self._records.scalar(
            select(Issue).where(
                Issue.kind == kind,
                Issue.resource_type == resource_type,
                Issue.pco_id.is_(None) if pco_id is None else Issue.pco_id == pco_id,
                Issue.local_id.is_(None) if local_id is None else Issue.local_id == local_id,
                Issue.resolved_at.is_(None),
            )
        )

    def step(self, name: str) -> None:
        self.run.current_step = name
        self.checkpoint(force=True)

    def resume(self) -> None:
        """Go on from the counts the run's earlier slices wrote to its row."""
        row = self.run
        for outcome in OUTCOMES:
            self.counts[outcome] = getattr(row, outcome) or 0
        self.done = self.total = row.progress_done or 0  # ``expect`` adds what is left
        self._requests_at_start -= row.requests_used or 0

    def checkpoint(self, *, force: bool = False, position: Any = None) -> None:
        """Commit progress at a batch boundary; raise ``SyncCancelledError`` if an admin asked.

        ``position`` (a step that may be sliced): every record up to it is done. If the slicer
        says the slice is over, it is committed with the counts and ``SliceEnded`` is raised.
        """
        if position is not None and self.slicer is not None and self.slicer.due():
            self._write(position)
            self.state.db.session.commit()
            raise SliceEnded(f"slice ended after {position!r}")
        now = self.clock()
        if not force and now - self._last_flush < self.flush_every:
            return
        self._last_flush = now
        self._write()
        self.state.db.session.commit()
        if self._cancel_requested():
            raise SyncCancelledError("cancelled by an admin")

    def between_pages(self, *, force: bool = False) -> None:
        """After a committed page: progress to the run row at most every ``PAGE_FLUSH``
        seconds (a watcher's bar, the CLI's or the admin page's, moves several times a second
        either way), and an admin's cancel looked for. A listing of small pages, such as a full
        pull's versions at a few milliseconds a page, would otherwise spend most of its time
        writing its row. ``force``: a page that must be written at once (it raised issues)."""
        self.checkpoint(force=force or self.clock() - self._last_flush >= PAGE_FLUSH)

    def _write(self, position: Any = None) -> None:
        """Counts, requests used and heartbeat (and a slice's position) to the row, by id.

        Not through ``self.run``: a commit expires it, and the unit of work would read the
        whole row back before updating it, once per batch.
        """
        SyncRun = self.state.models.SyncRun
        heartbeat = utcnow()
        values: dict[str, Any] = {}
        if position is not None:
            values["options"] = {**(self.run.options or {}), POSITION_OPTION: position}
        self.state.db.session.execute(
            update(SyncRun)
            .where(SyncRun.id == self._run_id)
            .values(
                **values,
                **self.counts,
                requests_used=self.requests() - self._requests_at_start,
                progress_done=self.done,
                progress_total=self.total,
                heartbeat_at=heartbeat,
            )
        )
        if self._parent_id is not None:
            # A long step of a full run must keep its parent alive too, or the parent would
            # look abandoned and give up the organisation's slot while this step still runs.
            self.state.db.session.execute(
                update(SyncRun).where(SyncRun.id == self._parent_id).values(heartbeat_at=heartbeat)
            )

    def _cancel_requested(self) -> bool:
        SyncRun = self.state.models.SyncRun
        return bool(
            self.state.db.session.scalar(
                select(SyncRun.cancel_requested).where(SyncRun.id == self._run_id)
            )
        )

    def summary(self) -> str:
        requests = self.requests() - self._requests_at_start
        return counts_text(SimpleNamespace(**self.counts, requests_used=requests))


def counts_text(run: Any) -> str:
    """What a run has done so far, in words: the same wording in the CLI, logs and summaries.

    Removed and held records are named only when there are some, so a quiet run stays short.
    """
    parts = [f"{run.created} created", f"{run.updated} updated"]
    parts += [f"{run.removed} removed"] if getattr(run, "removed", 0) else []
    parts += [f"{run.skipped} skipped"]
    parts += [f"{run.held} held"] if getattr(run, "held", 0) else []
    parts += [f"{run.failed} failed", f"{run.requests_used} requests"]
    return ", ".join(parts)


@dataclass
class SyncContext:
    """Everything one sync step needs, passed explicitly so the step is testable on its own."""

    state: PcoState
    client: PcoClient
    report: RunReporter
    dry_run: bool = False
    #: Only records changed since the last complete run (``where[updated_at][gte]``).
    incremental: bool = False
    #: What started the run (``nightly``, ``webhook-gap``, ``admin``, ``cli``, ...).
    trigger: str = ""
    #: Selective-sync options, e.g. ``{"list_ids": ["123"]}`` or ``{"group_id": "42"}``.
    options: dict[str, Any] = field(default_factory=dict)
    #: Per resource type, local ids with a recent unconfirmed create (read once per run).
    unconfirmed: dict[str, dict[int, datetime]] = field(default_factory=dict)
    #: PCO ids of the people this run created (all steps of a full run share the set): PCO
    #: has nothing that names them (a household) but what this run made.
    people_created: set[str] = field(default_factory=set)
    #: Lookups made once per run and kept for its length (held-match decisions, ...).
    memo: dict[str, Any] = field(default_factory=dict)
    #: Removals found due and not made yet (``removals.Proposal``): the step settles them at
    #: its end, all together, so the cap sees how many there are.
    removals: list[Any] = field(default_factory=list)

    #: A dry run's scratch session (``dry_run``); None writes through the app's session.
    scratch: Any = None
    #: The webhook delivery this context applies (its changes are journaled under it).
    delivery_id: int | None = None

    @property
    def session(self) -> Any:
        """Where the step reads and writes host rows and the extension's records."""
        return self.scratch if self.scratch is not None else self.state.db.session

    @property
    def roles(self) -> Roles:
        return self.state.roles

    @property
    def models(self) -> PcoModels:
        return self.state.models

    @property
    def config(self) -> PcoConfig:
        return self.state.config


@contextmanager
def reporting(
    state: PcoState,
    run: Any,
    client: PcoClient,
    records: Any = None,
    *,
    slicer: Slicer | None = None,
    resume: bool = False,
) -> Iterator[RunReporter]:
    """Run a body against ``run``: counts flushed, and the row closed with the right status.

    ``records``: the session issues go to (a dry run's scratch); the run row is always the
    app's, so a dry run is followed like any other. ``slicer``/``resume``: a run in slices
    (``sync.slices``); a slice that ends leaves the row open for its continuation.
    """
    reporter = RunReporter(
        state, run, requests=lambda: client.request_count, records=records, slicer=slicer
    )
    if resume:
        reporter.resume()
    try:
        with log_context(run.id, run.organization):
            yield reporter
    except SliceEnded:
        raise  # committed by ``checkpoint``; the run goes on in its continuation
    except SyncCancelledError as error:
        state.db.session.rollback()  # the half-written batch; every committed one stays
        reporter._write()
        finish_run(state, run, "cancelled", str(error))
        raise
    except PcoError as error:
        _close_failed(state, run, reporter, str(error))
        raise
    except Exception as error:
        _close_failed(state, run, reporter, f"{type(error).__name__}: {error}")
        raise
    else:
        reporter._write()
        state.db.session.commit()
        if reporter.approval is not None and run.dry_run:
            note = f"dry run: the real run would wait for approval ({reporter.approval})"
            finish_run(state, run, "succeeded", note)
        elif reporter.approval is not None:
            finish_run(state, run, "needs_approval", reporter.approval)
        else:
            finish_run(state, run, "succeeded")


def _close_failed(state: PcoState, run: Any, reporter: RunReporter, message: str) -> None:
    state.db.session.rollback()  # the half-written batch; every committed one stays
    reporter._write()
    finish_run(state, run, "failed", message.splitlines()[0][:2000] if message else "failed")
