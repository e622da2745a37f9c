"""How the sync is doing, in one word and the reasons: the admin page's Health section and
``flask pco health`` (whose exit code monitoring reads).

* **failing**: the latest run of a direction failed;
* **stale**: the nightly pull is on but nothing pulled successfully within a day and a grace,
  a run has waited in the queue with no worker taking it, or webhooks are installed, none
  arrived for ``PCO_WEBHOOK_GAP``, and an incremental pull since found changes PCO made (a
  quiet week sends no webhooks and is not stale);
* **degraded**: it works, but something waits for a person: records the latest runs could not
  write, held matches, removals waiting for approval, webhook subscriptions that do not work
  in PCO (or PCO could not be asked about them), Redis down;
* **healthy**: none of these.

Failures are grouped by cause: the reasons of the latest runs' issues with their numbers and
quoted values taken out, so "12 people: email is invalid" is one line, not twelve.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update

from flask_pco.jobs.outage import redis_problem
from flask_pco.jobs.schedule import get_schedule
from flask_pco.models import Direction, utcnow
from flask_pco.state import PcoState
from flask_pco.sync.approvals import waiting_runs
from flask_pco.sync.webhooks.repair import webhook_warning
from flask_pco.sync.webhooks.subscriptions import WebhookOverview, webhook_overview

__all__ = ["FailureGroup", "Health", "failure_groups", "group_csv", "health", "ignore_group"]

HealthState = Literal["healthy", "degraded", "failing", "stale"]
#: One reason: its state, the text shown to an admin, and the text an alert may carry (counts
#: and ids, never a record's values or an error's words).
Finding = tuple[HealthState, str, str]
#: Worst first: the state shown is the worst one any reason gives.
SEVERITY: tuple[HealthState, ...] = ("failing", "stale", "degraded", "healthy")
#: A nightly pull may run late (a long run before it, a restarted scheduler) by this much.
NIGHTLY_GRACE = timedelta(hours=2)
#: A queued run nobody has taken for this long means no worker is running.
QUEUED_TOO_LONG = timedelta(minutes=10)
#: Webhook deliveries' own issues (no run) count for this long.
DELIVERY_ISSUES_FOR = timedelta(days=7)
#: Records listed per group (the count covers them all).
RECORDS_SHOWN = 50
FINISHED = ("succeeded", "failed", "cancelled", "needs_approval", "refused", "superseded")
_NUMBER = re.compile(r"\d+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class FailureGroup:
    """Records skipped or refused for one cause by the latest run of one kind."""

    key: str
    direction: str
    sync_type: str
    kind: str
    resource_type: str
    cause: str
    #: The first ``RECORDS_SHOWN`` issues, to list; ``ids`` holds them all.
    issues: list[Any]
    ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def label(self) -> str:
        return f"{self.summary}: {self.cause}"

    @property
    def summary(self) -> str:
        """The label without the cause, whose words may quote a record."""
        what = f"{self.count} {self.resource_type} record{'s' if self.count != 1 else ''}"
        source = "webhooks" if self.direction == "webhook" else f"{self.direction} {self.sync_type}"
        return f"{source}: {what} {self.kind}"


@dataclass(frozen=True)
class Health:
    state: HealthState
    reasons: list[str]
    #: The reasons as an alert may state them.
    alerts: list[str]
    last_pull: datetime | None
    last_push: datetime | None
    last_delivery: datetime | None
    groups: list[FailureGroup] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


def health(state: PcoState) -> Health:
    """The state, the reasons for it (worst first), the last successes and the failure groups."""
    last = {direction: _last_success(state, direction) for direction in ("pull", "push")}
    runs = _latest_runs(state)
    overview = webhook_overview(state)
    groups = failure_groups(state, runs)
    found = [*_disconnected(state), *_failing(runs), *_stale(state, last["pull"], overview)]
    found += _degraded(state, groups)
    found.sort(key=lambda item: SEVERITY.index(item[0]))
    worst = found[0][0] if found else "healthy"
    return Health(
        state=worst,
        reasons=[text for _, text, _ in found],
        alerts=[alert for _, _, alert in found],
        last_pull=last["pull"],
        last_push=last["push"],
        last_delivery=overview.last_delivery_at,
        groups=groups,
    )


def _last_success(state: PcoState, direction: Direction) -> datetime | None:
    SyncRun = state.models.SyncRun
    return state.db.session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.parent_id.is_(None),
            SyncRun.direction == direction,
            SyncRun.status == "succeeded",
            SyncRun.dry_run.is_(False),
        )
    )


def _latest_runs(state: PcoState) -> list[Any]:
    """The latest finished real run of each direction (top-level rows)."""
    SyncRun = state.models.SyncRun
    runs = []
    for direction in ("pull", "push"):
        run = state.db.session.scalar(
            select(SyncRun)
            .where(
                SyncRun.parent_id.is_(None),
                SyncRun.direction == direction,
                SyncRun.status.in_(FINISHED),
                SyncRun.dry_run.is_(False),
            )
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        if run is not None:
            runs.append(run)
    return runs


def _disconnected(state: PcoState) -> list[Finding]:
    """PCO refused the site's OAuth grant (revoked, or its refresh token expired): nothing
    syncs until an admin connects again, whatever the last run says."""
    connection = state.oauth_connection()
    if connection is None or not connection.problem:
        return []
    alert = "Planning Center no longer accepts this site's connection: reconnect it"
    return [("failing", f"{alert} on the admin page ({connection.problem})", alert)]


def _failing(runs: list[Any]) -> list[Finding]:
    return [
        (
            "failing",
            f"the last {run.direction} ({run.sync_type}, run {run.id}) failed: "
            f"{run.error_message or 'no reason recorded'}",
            f"the last {run.direction} ({run.sync_type}, run {run.id}) failed",
        )
        for run in runs
        if run.status == "failed"
    ]


def _stale(state: PcoState, last_pull: datetime | None, overview: WebhookOverview) -> list[Finding]:
    found: list[Finding] = []
    now = utcnow()
    if get_schedule().enabled and (
        last_pull is None or now - last_pull > timedelta(days=1) + NIGHTLY_GRACE
    ):
        when = f"since {last_pull:%Y-%m-%d %H:%M} UTC" if last_pull else "ever"
        text = (
            f"the nightly sync is on, but no pull has succeeded {when}: "
            "is `flask pco scheduler` running?"
        )
        found.append(("stale", text, text))
    SyncRun = state.models.SyncRun
    waiting = state.db.session.scalar(
        select(func.min(SyncRun.queued_at)).where(
            SyncRun.parent_id.is_(None), SyncRun.status == "queued"
        )
    )
    if waiting is not None and now - waiting > QUEUED_TOO_LONG:
        minutes = int((now - waiting).total_seconds() // 60)
        text = f"a run has waited {minutes} min in the queue: is `flask pco worker` running?"
        found.append(("stale", text, text))
    gap = timedelta(seconds=state.config.webhook_gap)
    quiet_since = overview.last_delivery_at
    if overview.active_subscriptions and (quiet_since is None or now - quiet_since > gap):
        missed = _changes_pulled_since(state, quiet_since)
        if missed is not None:
            text = (
                f"no webhook delivery for more than {gap}, yet run {missed.id} pulled "
                f"{missed.created + missed.updated + missed.removed} changes PCO made: PCO may "
                "have stopped sending (see `flask pco webhooks status`)"
            )
            found.append(("stale", text, text))
    return found


def _changes_pulled_since(state: PcoState, quiet_since: datetime | None) -> Any:
    """The latest successful incremental pull since the last delivery that found PCO changes:
    a quiet church sends no webhooks, but changes a pull finds should have come as some."""
    SyncRun = state.models.SyncRun
    query = select(SyncRun).where(
        SyncRun.parent_id.is_(None),
        SyncRun.direction == "pull",
        SyncRun.incremental.is_(True),
        SyncRun.dry_run.is_(False),
        SyncRun.status == "succeeded",
        SyncRun.created + SyncRun.updated + SyncRun.removed > 0,
    )
    if quiet_since is not None:
        query = query.where(SyncRun.started_at > quiet_since)
    return state.db.session.scalars(query.order_by(SyncRun.id.desc()).limit(1)).first()


def _degraded(state: PcoState, groups: list[FailureGroup]) -> list[Finding]:
    found: list[Finding] = [("degraded", group.label, group.summary) for group in groups]
    SyncIssue = state.models.SyncIssue
    held = state.db.session.scalar(
        select(func.count()).where(SyncIssue.kind == "ambiguous", SyncIssue.resolved_at.is_(None))
    )
    if held:
        text = f"{held} held match{'es' if held != 1 else ''} wait for a decision"
        found.append(("degraded", text, text))
    for waiting in waiting_runs(state):
        text = f"run {waiting.run.id} waits for approval of {waiting.count} removals"
        found.append(("degraded", text, text))
    warning = webhook_warning(state)
    if warning is not None:
        found.append(("degraded", warning.text, warning.alert))
    problem = redis_problem(state)
    if problem:
        found.append(("degraded", problem, "Redis does not answer: queued work waits"))
    return found


def failure_groups(state: PcoState, latest: list[Any] | None = None) -> list[FailureGroup]:
    """The open issues of the latest runs (``latest``, when the caller has read them already)
    and of recent webhook deliveries, grouped by cause, largest group first."""
    SyncRun, SyncIssue = state.models.SyncRun, state.models.SyncIssue
    session = state.db.session
    runs = {run.id: run for run in (_latest_runs(state) if latest is None else latest)}
    children = session.execute(
        select(SyncRun.id, SyncRun.parent_id).where(SyncRun.parent_id.in_(list(runs)))
    ).all()
    owner = {run_id: run for run_id, run in runs.items()}
    owner.update({child: runs[parent] for child, parent in children})
    issues = session.scalars(
        select(SyncIssue)
        .where(
            SyncIssue.resolved_at.is_(None),
            SyncIssue.kind != "ambiguous",  # held matches have their own list and actions
            SyncIssue.run_id.in_(list(owner))
            | (
                SyncIssue.run_id.is_(None) & (SyncIssue.created_at > utcnow() - DELIVERY_ISSUES_FOR)
            ),
        )
        .order_by(SyncIssue.id)
    ).all()
    grouped: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for issue in issues:
        run = owner.get(issue.run_id) if issue.run_id is not None else None
        source = (run.direction, run.sync_type) if run is not None else ("webhook", "deliveries")
        key = (*source, issue.kind, issue.resource_type, cause_of(issue.reason))
        grouped.setdefault(key, []).append(issue)
    groups = [
        FailureGroup(
            key=_key(key),
            direction=key[0],
            sync_type=key[1],
            kind=key[2],
            resource_type=key[3],
            cause=key[4],
            issues=members[:RECORDS_SHOWN],
            ids=tuple(m.id for m in members),
        )
        for key, members in grouped.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.label))


def cause_of(reason: str) -> str:
    """A reason without the values that differ from record to record (numbers, quoted
    values): the same trouble met by other records, or by another run, reads the same."""
    return _NUMBER.sub("#", _QUOTED.sub("…", reason or "")).strip()


def _key(parts: tuple[str, ...]) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def find_group(state: PcoState, key: str) -> FailureGroup | None:
    return next((group for group in failure_groups(state) if group.key == key), None)


def ignore_group(state: PcoState, key: str) -> int:
    """Dismiss every open issue of a group: the admin has seen them; a later run that meets
    the same records again lists them again. Returns how many were dismissed."""
    group = find_group(state, key)
    if group is None:
        return 0
    SyncIssue = state.models.SyncIssue
    state.db.session.execute(
        update(SyncIssue)
        .where(SyncIssue.id.in_(group.ids), SyncIssue.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution="dismissed")
    )
    state.db.session.commit()
    return group.count


def _all_issues(state: PcoState, group: FailureGroup) -> list[Any]:
    """Every issue of a group, not only those shown."""
    SyncIssue = state.models.SyncIssue
    return list(
        state.db.session.scalars(
            select(SyncIssue).where(SyncIssue.id.in_(group.ids)).order_by(SyncIssue.id)
        )
    )


def group_csv(state: PcoState, key: str) -> str | None:
    """A group's records as CSV (for a spreadsheet or a ticket), or None if it is gone."""
    group = find_group(state, key)
    if group is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["issue", "run", "kind", "record type", "PCO id", "local id", "reason", "when (UTC)"]
    )
    for issue in _all_issues(state, group):
        writer.writerow(
            [
                issue.id,
                issue.run_id or "",
                issue.kind,
                issue.resource_type,
                issue.pco_id or "",
                issue.local_id or "",
                issue.reason,
                issue.created_at.isoformat(" ", "seconds") if issue.created_at else "",
            ]
        )
    return out.getvalue()
