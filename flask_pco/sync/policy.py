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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_pco.mapping.person_fields import WRITABLE_PERSON_FIELDS
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
    "take_snapshot",
]

#: The logical fields PCO is authoritative for, per role (the spec's "Data Ownership").
PCO_OWNED: dict[str, tuple[str, ...]] = {
    "person": (
        "first_name",
        "last_name",
        "gender",
        "dob",
        "child",
        "is_active",
        *WRITABLE_PERSON_FIELDS,
    ),
    "email": ("email", "is_primary"),
    "phone": ("phone", "kind", "is_primary"),
    "family": ("name", "street", "city", "state", "zip"),
    "group_membership": ("is_leader",),
    "person_address": (
        "street_line_1",
        "street_line_2",
        "city",
        "state",
        "zip",
        "location",
        "is_primary",
    ),
}


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
) -> Merge:
    """Three-way merge of ``fields``; values must already be in the same (local) form."""
    if base is None:
        return Merge(
            to_local={
                f: pco[f]
                for f in fields
                if f in pco and comparable(local.get(f)) != comparable(pco[f])
            }
        )
    to_local: dict[str, Any] = {}
    to_pco: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for name in fields:
        if name not in pco:
            continue
        old, mine, theirs = base.get(name), local.get(name), pco[name]
        if comparable(mine) == comparable(theirs):
            continue
        if comparable(mine) == comparable(old):
            to_local[name] = theirs
        elif comparable(theirs) == comparable(old):
            to_pco[name] = mine
        else:
            to_local[name] = theirs
            conflicts.append(FieldConflict(name, old, mine, theirs))
    return Merge(to_local, to_pco, tuple(conflicts))


def comparable(value: Any) -> Any:
    """The JSON form a value takes in a snapshot, so a date and its ISO string compare equal."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def local_values(row: Any, role: str, roles: Roles) -> dict[str, Any]:
    """The PCO-owned fields of a host row, by logical name, in snapshot (JSON) form."""
    return {
        name: comparable(getattr(row, roles.column(role, name)))
        for name in PCO_OWNED[role]
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
