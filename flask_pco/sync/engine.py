"""Runs a queued sync: one registered step, or every step of a ``full`` run in order.

Steps register themselves with ``@step("pull", "people")``; jobs, the CLI and the admin page
only ever name a direction and a sync type, so adding a step touches nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask_pco.exceptions import ConfigError
from flask_pco.sync.context import RunReporter, SyncContext, reporting
from flask_pco.sync.dry_run import PlannedWrites, scratch_session
from flask_pco.sync.preview import save_plan
from flask_pco.sync.removals import settle_removals
from flask_pco.sync.runs import begin_run, queue_run
from flask_pco.sync.slices import Slicer

if TYPE_CHECKING:
    from flask_pco.client import PcoClient
    from flask_pco.models import Roles
    from flask_pco.state import PcoState

__all__ = [
    "FULL_ORDER",
    "STEP_ROLES",
    "StepFunction",
    "execute_run",
    "offered",
    "require_roles",
    "step",
    "sync_types",
]

StepFunction = Callable[[SyncContext], None]

#: The steps of a ``full`` run, in the order the spec gives (people before the records that
#: point at them; campuses before the people who name one).
FULL_ORDER: dict[str, tuple[str, ...]] = {
    "pull": ("campuses", "people", "families", "groups", "events", "locations"),
    "push": ("people", "families", "group-memberships"),
}

#: The models each step reads and writes. A site registers only the roles it has (people only;
#: people and families; ...): ``full`` runs, the admin page's buttons and the nightly sync cover
#: the steps its roles allow, and asking for another one alone says which models it needs.
STEP_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("pull", "campuses"): ("campus",),
    ("pull", "people"): ("person",),
    ("pull", "families"): ("person", "family", "family_member"),
    ("pull", "groups"): ("person", "group", "group_membership"),
    ("pull", "events"): ("event",),
    ("pull", "locations"): ("location",),
    ("push", "people"): ("person",),
    ("push", "families"): ("person", "family", "family_member"),
    ("push", "group-memberships"): ("person", "group", "group_membership"),
}

_STEPS: dict[tuple[str, str], StepFunction] = {}


def step(direction: str, name: str) -> Callable[[StepFunction], StepFunction]:
    """Register a sync step under a direction and a sync type."""

    def register(function: StepFunction) -> StepFunction:
        _STEPS[(direction, name)] = function
        return function

    return register


def _load_steps() -> None:
    """Import the step packages, which register their steps (``undo``: the undo of a run)."""
    for name in ("pull", "push", "undo"):
        importlib.import_module(f"{__package__}.{name}")


def sync_types(direction: str) -> tuple[str, ...]:
    """The sync types a direction offers, ``full`` included once its steps exist."""
    _load_steps()
    names = tuple(name for d, name in _STEPS if d == direction)
    return (*names, "full") if names and direction in FULL_ORDER else names


def offered(roles: Roles, direction: str, name: str) -> bool:
    """Whether this site's registered models allow the step (``full``: any of its steps)."""
    if name == "full":
        return any(offered(roles, direction, step) for step in FULL_ORDER.get(direction, ()))
    return all(roles.has(role) for role in STEP_ROLES.get((direction, name), ()))


def require_roles(roles: Roles, direction: str, name: str) -> None:
    """Refuse a step whose models the site did not register, saying which to register."""
    missing = [r for r in STEP_ROLES.get((direction, name), ()) if not roles.has(r)]
    if missing and name != "full":
        needed = ", ".join(f"{role}=YourModel" for role in missing)
        raise ConfigError(
            f"{direction} {name} needs models this site has not registered: "
            f"pco.register_models({needed})"
        )


def execute_run(
    state: PcoState,
    run: Any,
    client: PcoClient,
    *,
    slicer: Slicer | None = None,
    resume: bool = False,
) -> RunReporter:
    """Run a queued run to its end and return its reporter; the row records the outcome.

    A dry run is the same run on a scratch database and a PCO that only plans its writes
    (``dry_run``), so its counts are the real run's. With a ``slicer`` a single step that is
    not a dry run may end a slice early (``sync.slices``: ``SliceEnded``); ``resume``
    carries on a run an earlier slice began.
    """
    _load_steps()
    if run.sync_type != "full" and (run.direction, run.sync_type) not in _STEPS:
        raise ConfigError(f"unknown sync: {run.direction} {run.sync_type}")
    require_roles(state.roles, run.direction, run.sync_type)
    if run.sync_type == "full" or run.dry_run:
        slicer = None  # a full run's steps and a dry run's scratch live as long as one job
    begin_run(state, run, resume=resume)
    with (
        _writes_for(state, run, client) as (scratch, writer),
        reporting(state, run, writer, scratch, slicer=slicer, resume=resume) as report,
    ):
        if run.sync_type == "full":
            _run_full(state, run, writer, report, scratch)
        else:
            step = _STEPS[(run.direction, run.sync_type)]
            _run_step(step, _context(state, run, writer, report, scratch=scratch))
        if scratch is not None:  # before the scratch, and the entries journaled there, go
            save_plan(state, run, scratch)
    return report


@contextmanager
def _writes_for(state: PcoState, run: Any, client: PcoClient) -> Iterator[tuple[Any, Any]]:
    """(scratch session, client) for the run: the real ones, or a dry run's stand-ins."""
    if not run.dry_run:
        yield None, client
        return
    with scratch_session(state) as scratch:
        yield scratch, PlannedWrites(client)


def _run_step(function: StepFunction, ctx: SyncContext) -> None:
    """Run a step, then make (or hold for approval) the removals it found due, all together."""
    function(ctx)
    if ctx.removals:
        settle_removals(ctx)


def _run_full(
    state: PcoState, parent: Any, client: PcoClient, parent_report: RunReporter, scratch: Any
) -> None:
    people_created: set[str] = set()  # the people step's, for the families step
    only = (parent.options or {}).get("steps")  # a catch-up names the steps it needs
    for name in FULL_ORDER[parent.direction]:
        if (parent.direction, name) not in _STEPS or not offered(
            state.roles, parent.direction, name
        ):
            continue  # not built, or not for this site's models
        if only and name not in only:
            continue
        parent_report.step(name)
        child = queue_run(
            state,
            name,
            parent.direction,
            trigger=parent.trigger,
            incremental=parent.incremental,
            dry_run=parent.dry_run,
            options=parent.options,
            parent_id=parent.id,
        )
        begin_run(state, child)
        with reporting(state, child, client, scratch) as report:
            _run_step(
                _STEPS[(parent.direction, name)],
                _context(state, child, client, report, people_created, scratch),
            )
        for outcome, value in report.counts.items():
            parent_report.count(outcome, value)
        if report.approval is not None:
            parent_report.wait_for_approval(f"{name}: {report.approval}")
    parent_report.step("done")


def _context(
    state: PcoState,
    run: Any,
    client: PcoClient,
    report: RunReporter,
    people_created: set[str] | None = None,
    scratch: Any = None,
) -> SyncContext:
    return SyncContext(
        state=state,
        client=client,
        report=report,
        dry_run=run.dry_run,
        incremental=run.incremental,
        trigger=run.trigger or "",
        options=dict(run.options or {}),
        people_created=set() if people_created is None else people_created,
        scratch=scratch,
    )
