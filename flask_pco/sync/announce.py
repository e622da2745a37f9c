"""Sending the host's signals (``flask_pco.signals``) for what a transaction changed, once it
has committed.

The change journal already sees every change of every write path: its ``before_commit`` writes
the transaction's entries and hands them here (``keep_written``); conflicts are noted by
``record_conflicts`` (``note_conflicts``). Nothing is sent then. ``after_commit`` of the
session's outermost transaction marks them ready (a savepoint's release does not: the
outer transaction still decides), and they are sent when that transaction has ended, so a
receiver may read through the session; a transaction that rolls back drops them unsent. A dry
run's scratch session (``mark_dry_run``) never sends.

A receiver that raises is logged, redacted, and its half-done transaction rolled back: the
sync's own work is already committed and carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blinker import Signal
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from flask_pco import signals
from flask_pco.redaction import redact

__all__ = ["keep_written", "mark_dry_run", "note_conflicts", "send_signal"]

log = logging.getLogger("flask_pco.signals")

#: Session ``info`` keys: entries and conflicts waiting for the commit, and what is ready.
_WRITTEN = "pco_signals_written"
_CONFLICTS = "pco_signals_conflicts"
_READY = "pco_signals_ready"
_DRY_RUN = "pco_dry_run"


def mark_dry_run(session: Session) -> None:
    """A dry run's scratch session: its commits are thrown away, so they announce nothing."""
    session.info[_DRY_RUN] = True


def keep_written(session: Session, entries: Iterable[Mapping[str, Any]]) -> None:
    """The journal entries just written in ``session``'s transaction (ids resolved)."""
    if not session.info.get(_DRY_RUN):
        session.info.setdefault(_WRITTEN, []).extend(entries)


def note_conflicts(session: Session, conflicts: Iterable[tuple[Any, Any, int | None]]) -> None:
    """Conflict rows added in this transaction, with the run and delivery that found them."""
    if not session.info.get(_DRY_RUN):
        session.info.setdefault(_CONFLICTS, []).extend(conflicts)


@dataclass
class _Announcement:
    """What one signal says about one record in one transaction."""

    signal: Signal
    record_type: str
    local_id: int | None
    pco_id: str | None
    run_id: int | None
    delivery_id: int | None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    sides: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, action: str, changes: Mapping[str, tuple[Any, Any]], side: str) -> None:
        self.sides.add(side)
        if action not in self.actions:
            self.actions.append(action)
        for name, (old, new) in changes.items():
            first = self.changes.get(name, (old, new))[0]  # the value before the transaction
            self.changes[name] = (first, new)

    def send(self, session: Session) -> None:
        send_signal(
            self.signal,
            session,
            record_type=self.record_type,
            local_id=self.local_id,
            pco_id=self.pco_id,
            changes=self.changes,
            actions=tuple(self.actions),
            created="create" in self.actions,
            side=self.sides.pop() if len(self.sides) == 1 else "both",
            run_id=self.run_id,
            delivery_id=self.delivery_id,
            **self.extra,
        )


def _signal_for(entry: Mapping[str, Any], pushed: set[tuple[str, Any]]) -> Signal | None:
    """Which signal an entry belongs to; None for what no signal covers. ``pushed``: the records
    this transaction wrote to PCO, whose local link is part of that push, not a pull."""
    if entry["run_id"] is None and entry["delivery_id"] is None:
        return None  # an admin's own change on the admin page
    kind, side, action = entry["record_type"], entry["side"], entry["action"]
    if kind == "person" and (side == "pco" or (action == "link" and _record(entry) in pushed)):
        return signals.person_pushed
    if kind == "person":
        return signals.person_deactivated if action == "deactivate" else signals.person_pulled
    if kind in ("family", "family_member"):
        return signals.family_changed
    if kind == "group_membership":
        return signals.membership_changed
    return None


def _record(entry: Mapping[str, Any]) -> tuple[str, Any]:
    """The record an entry is about: its local id, or PCO's id for a row not kept locally."""
    local_id = entry["local_id"]
    return entry["record_type"], local_id if local_id is not None else entry["pco_id"]


def _changes(entry: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """An entry's change as ``{field: (old, new)}``: a created or removed record's values come
    as one dict, a link as the PCO id it changed."""
    old, new = entry["old_value"], entry["new_value"]
    if entry["field"] is not None:
        return {entry["field"]: (old, new)}
    if entry["action"] == "link":
        return {"pco_id": (old, new)}
    if isinstance(new, Mapping) or isinstance(old, Mapping):
        old, new = old or {}, new or {}
        return {name: (old.get(name), new.get(name)) for name in {**old, **new}}
    return {}


def announcements(
    entries: Iterable[Mapping[str, Any]], conflicts: Iterable[tuple[Any, Any, int | None]] = ()
) -> list[_Announcement]:
    """One announcement per signal and record, in the order the records first changed."""
    entries = list(entries)
    pushed = {_record(entry) for entry in entries if entry["side"] == "pco"}
    found: dict[tuple[Any, ...], _Announcement] = {}
    for entry in entries:
        signal = _signal_for(entry, pushed)
        if signal is None:
            continue
        key = (signal, *_record(entry))
        if key not in found:
            found[key] = _Announcement(
                signal, entry["record_type"], entry["local_id"], entry["pco_id"],
                entry["run_id"], entry["delivery_id"],
            )  # fmt: skip
        found[key].add(entry["action"], _changes(entry), entry["side"])
        found[key].pco_id = found[key].pco_id or entry["pco_id"]
    for conflict, run_id, delivery_id in conflicts:
        key = (signals.conflict_recorded, conflict.role, conflict.local_id)
        if key not in found:
            found[key] = _Announcement(
                signals.conflict_recorded, conflict.role, conflict.local_id, conflict.pco_id,
                run_id, delivery_id, extra={"conflict_ids": []},
            )  # fmt: skip
        changed = {conflict.field: (conflict.local_value, conflict.pco_value)}
        found[key].add("conflict", changed, "local")
        found[key].extra["conflict_ids"].append(conflict.id)
    return list(found.values())


def send_signal(signal: Signal, session: Any, **payload: Any) -> None:
    """Send ``signal`` from the current app to each receiver in turn; one that raises is logged
    (redacted) and its transaction rolled back, and the next receivers still hear it."""
    sender = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    if getattr(signal, "is_muted", False):
        return
    for receiver in signal.receivers_for(sender):
        try:
            receiver(sender, **payload)
        except Exception as error:  # a host's bug must not stop the sync
            log.error(
                "%s, a receiver of %s, raised %s: %s",
                getattr(receiver, "__qualname__", type(receiver).__name__),
                getattr(signal, "name", "a signal"),
                type(error).__name__,
                redact(str(error)).splitlines()[0] if str(error) else "",
            )
            session.rollback()


def _listened_to() -> bool:
    """Whether any receiver is connected: a site without one pays nothing per commit."""
    return any(signal.receivers for signal in signals.signals.values())


@event.listens_for(Session, "after_commit")
def _ready(session: Session) -> None:
    """The outermost transaction committed: what it wrote may be announced."""
    if session.in_nested_transaction():
        return
    entries, conflicts = session.info.pop(_WRITTEN, []), session.info.pop(_CONFLICTS, [])
    if (entries or conflicts) and _listened_to():
        # Read now: the objects are expired after this hook, and reading them later costs SQL.
        found = announcements(entries, conflicts)
        session.info.setdefault(_READY, []).extend(found)


@event.listens_for(Session, "after_transaction_end")
def _announce(session: Session, transaction: SessionTransaction) -> None:
    """Send what the ended outermost transaction committed; drop what it did not."""
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_WRITTEN, None)
    session.info.pop(_CONFLICTS, None)
    for announcement in session.info.pop(_READY, []):
        announcement.send(session)
