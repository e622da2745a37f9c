"""The change journal's recorder: every writer notes its changes here, and they are written
with the transaction that makes them.

A writer calls ``record`` (one change) or ``record_fields`` (an update, field by field). The
entries wait in the session's ``info`` and are inserted by the session's own ``before_commit``,
in one executemany for the whole batch: a page of a pull costs one statement, not one per
field. A rollback (a refused record, a failed page, a cancelled run) drops them with the
changes they describe, so nothing is journaled that did not happen and nothing happens without
its entry. Rows not flushed yet (a new family) are noted by reference; their ids are read when
the batch is written.

Values go in as snapshots hold them (``comparable``: dates as ISO text, text stripped), so an
entry's old value can be written back as it is. A field whose name says it holds a secret
is never written, only that it changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, SessionTransaction

from flask_pco.models import utcnow
from flask_pco.sync.announce import keep_written
from flask_pco.sync.bulk import insert_many
from flask_pco.sync.policy import comparable

if TYPE_CHECKING:
    from flask_pco.models import PcoModels
    from flask_pco.state import PcoState
    from flask_pco.sync.context import SyncContext

__all__ = [
    "REDACTED",
    "prune_journal",
    "record",
    "record_admin_change",
    "record_admin_link",
    "record_fields",
]

#: The session ``info`` key the waiting entries are kept under.
_KEY = "pco_journal"
#: What stands in a journal entry for the value of a field that holds a secret.
REDACTED = "[redacted]"
_SECRET_WORDS = ("secret", "token", "password")


@dataclass
class _Pending:
    """The entries a session's transaction has made so far, and the table they go to."""

    table: Any
    #: (row or None, entry): a row's id and PCO id are read from it when the batch is written.
    entries: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)


def record(
    ctx: SyncContext,
    record_type: str,
    action: str,
    *,
    row: Any = None,
    local_id: int | None = None,
    pco_id: str | None = None,
    name: str | None = None,
    old: Any = None,
    new: Any = None,
    side: str = "local",
) -> None:
    """Note one change of this run or delivery; written when its transaction commits."""
    entry = {
        "run_id": ctx.report.run_id,
        "delivery_id": ctx.delivery_id,
        **_change(record_type, action, local_id, pco_id, name, old, new, side),
    }
    _pending(ctx.session, ctx.models).entries.append((row, entry))


def record_admin_change(
    state: PcoState, record_type: str, row: Any, changes: Mapping[str, tuple[Any, Any]]
) -> None:
    """Note an admin's own change of ``row`` (a conflict settled their way): no run, no
    delivery; written with the admin's commit."""
    for name, (old, new) in changes.items():
        entry = {"run_id": None, "delivery_id": None}
        entry |= _change(record_type, "update", None, None, name, old, new, "local")
        _pending(state.db.session, state.models).entries.append((row, entry))


def record_admin_link(state: PcoState, record_type: str, row: Any, pco_id: str) -> None:
    """Note an admin linking ``row`` to PCO's ``pco_id`` (a held match settled by hand)."""
    entry = {"run_id": None, "delivery_id": None}
    entry |= _change(record_type, "link", None, pco_id, None, row.pco_id, pco_id, "local")
    _pending(state.db.session, state.models).entries.append((row, entry))


def _change(
    record_type: str,
    action: str,
    local_id: int | None,
    pco_id: str | None,
    name: str | None,
    old: Any,
    new: Any,
    side: str,
) -> dict[str, Any]:
    return {
        "side": side,
        "record_type": record_type,
        "local_id": local_id,
        "pco_id": pco_id,
        "action": action,
        "field": name,
        "old_value": _value(name, old),
        "new_value": _value(name, new),
        "created_at": utcnow(),
    }


def record_fields(
    ctx: SyncContext,
    record_type: str,
    row: Any,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    action: str = "update",
    side: str = "local",
    pco_id: str | None = None,
) -> None:
    """Note an update of ``row``: one entry per field, ``changes`` being {field: (old, new)}.
    ``pco_id``: the PCO record written when it is not the row's own (a family's address)."""
    for name, (old, new) in changes.items():
        record(
            ctx, record_type, action, row=row, pco_id=pco_id, name=name, old=old, new=new, side=side
        )


def _pending(session: Any, models: PcoModels) -> _Pending:
    info = session.info
    pending = info.get(_KEY)
    if pending is None:
        pending = info[_KEY] = _Pending(sa_inspect(models.JournalEntry).local_table)
    return pending  # type: ignore[no-any-return]


def _value(name: str | None, value: Any) -> Any:
    if name is not None and _is_secret(name):
        return REDACTED
    if type(value) is dict or (type(value) is not str and isinstance(value, Mapping)):
        return {k: _value(k, v) for k, v in value.items()}
    return comparable(value)


@lru_cache(maxsize=1024)
def _is_secret(name: str) -> bool:
    """Whether a field's name says it holds a secret (asked once per name, not per value)."""
    return any(word in name.lower() for word in _SECRET_WORDS)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Insert the transaction's entries just before it commits, ids of new rows read first."""
    pending: _Pending | None = session.info.pop(_KEY, None)
    if pending is None or not pending.entries:
        return
    if any(row is not None and row.id is None for row, _ in pending.entries):
        session.flush()
    rows = []
    for row, entry in pending.entries:
        if row is not None:
            entry["local_id"] = entry["local_id"] or row.id
            entry["pco_id"] = entry["pco_id"] or getattr(row, "pco_id", None)
        rows.append(entry)
    insert_many(session, pending.table, rows)
    keep_written(session, rows)  # the host's signals, sent once the commit is done


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rolled back, closed) takes its entries along;
    a savepoint's end leaves them, as the outer transaction still decides."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_KEY, None)


def prune_journal(state: PcoState, now: datetime | None = None) -> int:
    """Delete entries older than ``PCO_JOURNAL_DAYS`` (the housekeeping job); how many went."""
    Entry = state.models.JournalEntry
    cutoff = (now or utcnow()) - timedelta(days=state.config.journal_days)
    result = state.db.session.execute(delete(Entry).where(Entry.created_at < cutoff))
    state.db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
