"""Who owns which field, and the three-way merge that decides what moves where.

Each linked row keeps ``pco_snapshot``: the PCO-owned values as they were when the two sides
last agreed. Comparing the local value and PCO's value with that base tells, per field, which
side changed it:

=================  ================  =========================================
local vs base      PCO vs base       outcome
=================  ================  =========================================
same               same              nothing to do
same               changed           pull PCO's value
changed            same              push the local value
changed            changed           conflict: PCO's value wins (PCO owns these
                                     fields), the local value is kept in a
                                     ``pco_conflict`` row for an admin
=================  ================  =========================================

A row that was never synced has no base: PCO's values win and nothing is pushed. Local-owned
fields (allergies, photo, verification, check-ins) are not in any snapshot, so no merge can
ever touch them.

That table is the ``two_way`` rule, every field's default. A host may choose another per field
(``register_models(rules=...)``, ``flask_pco.field_rules``): ``pco_wins`` and ``local_wins``
settle the last row without a conflict, ``pull_only`` and ``push_only`` make one side follow
the other whatever the base says, ``ignore`` leaves the field out, and ``+keep_filled`` drops
any decision that would replace a filled value with an empty one. The synced fields are the
PCO-owned ones plus the host's custom fields (``Roles.synced``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_pco.field_rules import DEFAULT_RULE, PCO_OWNED, FieldRule, is_empty
from flask_pco.sync.announce import note_conflicts

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flask_pco.models import Roles
    from flask_pco.sync.context import SyncContext

__all__ = [
    "PCO_OWNED",
    "FieldConflict",
    "Merge",
    "comparable",
    "local_values",
    "merge",
    "record_conflicts",
    "rules_for",
    "take_snapshot",
]


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """One field changed on both sides since the last sync."""

    field: str
    base: Any
    local: Any
    pco: Any


@dataclass(frozen=True, slots=True)
class Merge:
    """What a three-way merge decided, field by field."""

    #: Values to write on the local row (PCO changed them, or won a conflict).
    to_local: dict[str, Any] = field(default_factory=dict)
    #: Values to send to PCO (only the local side changed them).
    to_pco: dict[str, Any] = field(default_factory=dict)
    conflicts: tuple[FieldConflict, ...] = ()

    @property
    def unchanged(self) -> bool:
        return not (self.to_local or self.to_pco or self.conflicts)


def merge(
    base: Mapping[str, Any] | None,
    local: Mapping[str, Any],
    pco: Mapping[str, Any],
    fields: tuple[str, ...],
    rules: Mapping[str, FieldRule] | None = None,
) -> Merge:
    """Three-way merge of ``fields`` under each field's rule (``field_rules``; ``two_way``
    unless given); values must already be in the same (local) form."""
    to_local: dict[str, Any] = {}
    to_pco: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for name in fields:
        if name not in pco:
            continue
        rule = (rules or {}).get(name, DEFAULT_RULE)
        mine, theirs = local.get(name), pco[name]
        if comparable(mine) == comparable(theirs) or rule.mode == "ignore":
            continue
        side = _side(rule, None if base is None else (base.get(name),), mine, theirs)
        if rule.keep_filled and is_empty(theirs if side != "pco" else mine):
            continue  # an empty value never clears a filled one
        if side in ("local", "conflict"):
            to_local[name] = theirs
        if side == "pco":
            to_pco[name] = mine
        if side == "conflict":
            conflicts.append(FieldConflict(name, base.get(name) if base else None, mine, theirs))
    return Merge(to_local, to_pco, tuple(conflicts))


def _side(rule: FieldRule, base: tuple[Any] | None, mine: Any, theirs: Any) -> str | None:
    """Where a differing value goes: ``local`` (take PCO's), ``pco`` (push the site's),
    ``conflict`` (take PCO's, keep the site's for an admin) or None (leave both)."""
    if rule.mode == "pull_only":
        return "local"
    if rule.mode == "push_only":
        return "pco"
    if base is None:  # never agreed: PCO's value wins, as on a first link
        return "local"
    old = comparable(base[0])
    if comparable(mine) == old:
        return "local"
    if comparable(theirs) == old:
        return "pco"
    return {"pco_wins": "local", "local_wins": "pco"}.get(rule.mode, "conflict")


def comparable(value: Any) -> Any:
    """The JSON form a value takes in a snapshot, so a date and its ISO string compare equal."""
    kind = type(value)
    if kind is str:  # most values: tested first, as a pull asks this ~40 times per person
        return value.strip()
    if value is None or kind is bool or kind is int:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal):  # a Numeric column: JSON keeps numbers, not Decimals
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def rules_for(roles: Roles, role: str) -> tuple[tuple[str, ...], dict[str, FieldRule]]:
    """``merge``'s last two arguments for a role: its synced fields and their rules."""
    return roles.synced(role), roles.rules_of(role)


def local_values(row: Any, role: str, roles: Roles) -> dict[str, Any]:
    """The synced fields of a host row (PCO-owned and custom, per ``Roles.synced``), by
    logical name, in snapshot (JSON) form."""
    return {
        name: comparable(getattr(row, roles.column(role, name)))
        for name in roles.synced(role)
        if hasattr(row, roles.column(role, name))
    }


def take_snapshot(row: Any, role: str, roles: Roles) -> None:
    """Record that the row and PCO agree on its current PCO-owned values."""
    row.pco_snapshot = local_values(row, role, roles)


def record_conflicts(
    ctx: SyncContext, role: str, row: Any, conflicts: Iterable[FieldConflict]
) -> None:
    """Keep the site's value of each field both sides changed; PCO's value has won on the row.

    Each is announced (``conflict_recorded``) once its transaction has committed."""
    added = []
    for conflict in conflicts:
        added.append(
            ctx.models.Conflict(
                role=role,
                local_id=row.id,
                pco_id=row.pco_id,
                field=conflict.field,
                base_value=comparable(conflict.base),
                local_value=comparable(conflict.local),
                pco_value=comparable(conflict.pco),
            )
        )
    ctx.session.add_all(added)
    note_conflicts(ctx.session, [(c, ctx.report.run_id, ctx.delivery_id) for c in added])
