"""Mixins for the host's models, the role registry, and the extension's own tables.

The host owns its models. ``PcoLinkedMixin`` adds the PCO id and the bookkeeping the sync needs;
``PCO.register_models`` says which host class plays which part. The extension's own tables
(sync log, cursors, held matches, conflicts, webhook deliveries and subscriptions, settings,
the change journal, dry-run plans) are defined on the host's ``db`` so that ``flask db migrate`` picks them up
with the host's.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from flask_pco.indexes import PartialIndex, pco_id_index, pco_unlinked_index
from flask_pco.journal_table import JournalEntryTable
from flask_pco.plan_table import PlanEntryTable
from flask_pco.roles import DEFAULT_FIELDS, ROLES, Roles

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

__all__ = [
    "DEFAULT_FIELDS",
    "ROLES",
    "DeliveryStatus",
    "Direction",
    "Outcome",
    "PcoLinkedMixin",
    "PcoModels",
    "Roles",
    "RunStatus",
    "define_models",
    "pco_id_index",
    "pco_unlinked_index",
    "utcnow",
]


def utcnow() -> datetime:
    """Naive UTC now: SQLite and PostgreSQL ``timestamp`` columns agree on naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class PcoLinkedMixin:
    """Gives a host model its PCO id and the sync bookkeeping columns.

    A host that declares its own ``__table_args__`` adds ``pco_id_index(__tablename__)`` to them
    (and, on the person model, ``pco_unlinked_index(__tablename__)``).
    """

    #: PCO's id for this record (always a string); NULL until linked.
    pco_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: PCO's ``updated_at`` of the version last applied: an older webhook never overwrites it.
    pco_updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: When this record and PCO last agreed.
    pco_synced_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: PCO-owned field values at the last sync, the common base for conflict detection and for
    #: recognising a webhook echo of our own write.
    pco_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Complete looks at PCO in a row that did not find this linked record (a full listing
    #: without it, a 404). One look can be wrong, so nothing is removed before
    #: ``PCO_REMOVE_AFTER_MISSES``; PCO listing the record again sets it back to 0.
    pco_misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When a sync removed this row's link to PCO (a membership PCO dropped, a person
    #: deactivated): the row is kept, and PCO listing it again restores it. NULL while current.
    pco_removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: The sync run that removed it (NULL for a webhook delivery, or while current).
    pco_removed_run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The local row this one was merged into (PCO merged their two profiles): this row is
    #: kept, inactive, and its local data lives on there. NULL unless merged.
    pco_merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (pco_id_index(cls.__tablename__),)  # type: ignore[attr-defined]


#: Which way a run goes (``webhook``: the run that applies one delivery's removals; ``undo``:
#: the run that reverts another run or a delivery, from the journal; ``merge``: an admin's own
#: merge of two local people, a run so that it is journaled and can be undone).
Direction = Literal["pull", "push", "webhook", "undo", "merge"]
#: A run's life: queued → running → succeeded, failed or cancelled; needs_approval when it ended
#: with removals waiting for an admin, then refused or superseded by their decision.
RunStatus = Literal[
    "queued", "running", "succeeded", "failed", "cancelled", "needs_approval", "refused",
    "superseded",
]  # fmt: skip
#: What a run counts a record as.
Outcome = Literal["created", "updated", "unchanged", "skipped", "failed", "removed", "held"]
#: A webhook delivery's life: received → applied, ignored, failed, or held (its removals wait).
DeliveryStatus = Literal["received", "applied", "ignored", "failed", "held"]

#: The rows that hold an organisation's run slot. Queries for the active run use this very text:
#: SQLite uses a partial index only when the query repeats its predicate with the same literals.
ACTIVE_TOP_LEVEL = "parent_id IS NULL AND status IN ('queued', 'running')"
SUBSCRIPTION_UNIQUE = "uq_pco_webhook_subscription_organization_pco_id"

T = TypeVar("T")


class _Table:
    """The columns of one of the extension's tables, typed; ``_build`` maps them onto the
    host's ``db.Model``. The keyword constructor is the one declarative mapping gives."""

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...


class SyncRunTable(_Table):
    """One pull, push or catch-up run; the admin page polls this row."""

    __tablename__ = "pco_sync_log"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A function: each app's db gets its own Index objects.
        return (
            Index("ix_pco_sync_log_lookup", "organization", "sync_type", "status"),
            # The single-run guard: one queued or running top-level run per organisation.
            PartialIndex(
                "uq_pco_sync_log_active",
                "organization",
                unique=True,
                sqlite_where=text(ACTIVE_TOP_LEVEL),
                postgresql_where=text(ACTIVE_TOP_LEVEL),
            ),
        )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="")
    sync_type: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))  # pull/push/webhook/undo/merge
    #: queued, running, succeeded, failed, cancelled; needs_approval (ended, its removals
    #: wait for an admin), refused or superseded (an admin refused them, a later run asked again).
    status: Mapped[str] = mapped_column(String(20), default="queued")
    trigger: Mapped[str] = mapped_column(String(20), default="cli")
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("pco_sync_log.id"), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    #: Who runs it (``sync/runner.py``): host name, process id, and the process's identity
    #: beyond its pid, so a run whose process died on this host is released at once.
    runner_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    runner_process: Mapped[str | None] = mapped_column(String(120), nullable=True)
    current_step: Mapped[str] = mapped_column(String(120), default="")
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Records deactivated, unlinked or marked removed because PCO no longer has them.
    removed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Records held for an admin's decision (an ambiguous match), not written.
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_used: Mapped[int] = mapped_column(Integer, default=0)
    #: Records gone through, of how many (PCO's ``total_count``, or a push's work list;
    #: None while unknown): what a progress bar shows.
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)


class SyncIssueTable(_Table):
    """A record a run skipped or held for an admin (ambiguous match, refused by PCO, bad data)."""

    __tablename__ = "pco_sync_issue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("pco_sync_log.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # ambiguous, held, unlinked, ...
    resource_type: Mapped[str] = mapped_column(String(40))
    pco_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    local_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: How a held record was settled: ``linked:<id>``, ``create_new``, ``cleared`` (a later
    #: run no longer held it) or ``dismissed``.
    resolution: Mapped[str | None] = mapped_column(String(60), nullable=True)


class SyncCursorTable(_Table):
    """Where the last complete run of one resource started: the next incremental begins there."""

    __tablename__ = "pco_sync_cursor"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A function: each app's db gets its own Index objects.
        return (UniqueConstraint("organization", "resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="")
    resource: Mapped[str] = mapped_column(String(40))
    synced_from: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ConflictTable(_Table):
    """A field changed both locally and in PCO since the last sync; PCO's value was kept.

    Or (``merged_from`` set) two local rows PCO merged held different values of a column the
    site owns: the surviving row's value (``pco_value``) was kept, the merged row's is
    ``local_value``.
    """

    __tablename__ = "pco_conflict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    role: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int] = mapped_column(Integer)
    pco_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    field: Mapped[str] = mapped_column(String(60))
    base_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    local_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    pco_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    detected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: The local row a merge took ``local_value`` from; NULL for a conflict with PCO.
    merged_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


class WebhookDeliveryTable(_Table):
    """A webhook delivery as received; stored before it is applied so none is lost."""

    __tablename__ = "pco_webhook_delivery"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # Workers look every few minutes for deliveries still received (a lost job).
        return (Index("ix_pco_webhook_delivery_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    organization_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resource_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resource_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="received")
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebhookSubscriptionTable(_Table):
    """A PCO webhook subscription this site installed, with its signing secret."""

    __tablename__ = "pco_webhook_subscription"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # Per church: two churches' PCO organisations (two sandboxes) may use the same ids.
        return (UniqueConstraint("organization", "pco_id", name=SUBSCRIPTION_UNIQUE),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    pco_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SettingTable(_Table):
    """An admin-set value (the nightly sync's switch and hour, a church's OAuth connection)."""

    __tablename__ = "pco_setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class RemovalTable(_Table):
    """A removal a run or a webhook made, or that waits for an admin's approval.

    Deactivating a person, unlinking a family, marking a membership removed: each is one
    row, so a run that would remove too much can stop and ask, and what was removed (and by
    which run) can be read back and reversed.
    """

    __tablename__ = "pco_removal"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A function: each app's db gets its own Index objects.
        return (Index("ix_pco_removal_status", "status", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("pco_sync_log.id"), nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int] = mapped_column(Integer)
    pco_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    action: Mapped[str] = mapped_column(String(20))  # deactivate, unlink, remove
    #: Who or what, in words an admin reads ("Maria Garcia", "Garcia household").
    label: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    #: pending (waits for approval), applied, refused, superseded, skipped; undone (its run or
    #: delivery was undone and its record is back: the undo's journal entries name that run)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


@dataclass(frozen=True)
class PcoModels:
    """The extension's own tables, as classes on the host's ``db``."""

    SyncRun: type[SyncRunTable]
    SyncIssue: type[SyncIssueTable]
    SyncCursor: type[SyncCursorTable]
    Conflict: type[ConflictTable]
    WebhookDelivery: type[WebhookDeliveryTable]
    WebhookSubscription: type[WebhookSubscriptionTable]
    Setting: type[SettingTable]
    Removal: type[RemovalTable]
    JournalEntry: type[JournalEntryTable]
    PlanEntry: type[PlanEntryTable]


_defined: weakref.WeakKeyDictionary[Any, PcoModels] = weakref.WeakKeyDictionary()


def define_models(db: SQLAlchemy) -> PcoModels:
    """Define the extension's tables on ``db`` once; later calls return the same classes."""
    if db not in _defined:
        _defined[db] = _build(db)
    return _defined[db]


def _build(db: SQLAlchemy) -> PcoModels:
    """Map each table's columns onto the host's ``db.Model`` (its metadata, its migrations)."""

    def mapped(table: type[T]) -> type[T]:
        name = table.__name__.removesuffix("Table")
        namespace = {"__doc__": table.__doc__, "__module__": __name__, "__qualname__": name}
        return cast("type[T]", type(name, (table, db.Model), namespace))

    return PcoModels(
        mapped(SyncRunTable),
        mapped(SyncIssueTable),
        mapped(SyncCursorTable),
        mapped(ConflictTable),
        mapped(WebhookDeliveryTable),
        mapped(WebhookSubscriptionTable),
        mapped(SettingTable),
        mapped(RemovalTable),
        mapped(JournalEntryTable),
        mapped(PlanEntryTable),
    )
