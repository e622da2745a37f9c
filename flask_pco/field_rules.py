"""Per-field sync rules, and the host's custom-field columns, as the host declares them.

``register_models(custom_fields={"person": {"T-shirt size": "shirt_size"}})`` maps a PCO
custom field (by name, or by its FieldDefinition id) to a host column; that column then is a
synced field of the person like ``first_name``. ``register_models(rules={"person": {"gender":
"local_wins", "shirt_size": "push_only+keep_filled"}})`` chooses how each field moves:

==============  ===============================================================================
``two_way``     both sides' changes move; both changed: PCO's value is taken and the site's is
                kept as a conflict for an admin (the default for every PCO-owned field)
``pco_wins``    both sides' changes move; both changed: PCO's value is taken, no conflict
``local_wins``  both sides' changes move; both changed: the site's value is kept and pushed
``pull_only``   PCO is the source: the site's copy follows PCO and is never pushed
``push_only``   the site is the source: PCO's copy follows the site and is never pulled
``ignore``      never read, written or compared ("don't sync")
==============  ===============================================================================

``+keep_filled`` on any of them: an empty value never clears a filled one, in either direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["MODES", "PCO_OWNED", "RULED_ROLES", "FieldRule", "parse_rule"]

MODES = ("two_way", "pco_wins", "local_wins", "pull_only", "push_only", "ignore")
KEEP_FILLED = "keep_filled"


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one field moves between the site and PCO."""

    mode: str = "two_way"
    #: An empty value (None, "", []) never replaces a filled one.
    keep_filled: bool = False

    @property
    def pulls(self) -> bool:
        return self.mode not in ("push_only", "ignore")

    @property
    def pushes(self) -> bool:
        return self.mode not in ("pull_only", "ignore")

    def __str__(self) -> str:
        return self.mode + (f"+{KEEP_FILLED}" if self.keep_filled else "")


#: The fields PCO is authoritative for, per role (the spec's "Data Ownership"): each is synced
#: ``two_way`` unless a rule says otherwise. ``policy.PCO_OWNED`` re-exports it.
PCO_OWNED: dict[str, tuple[str, ...]] = {
    "person": (
        "first_name",
        "last_name",
        "gender",
        "dob",
        "child",
        "is_active",
        # The optional fields PCO lets a site write (``mapping.person_fields``'s writable ones,
        # which a test holds equal to these): kept only where the host has the column.
        "nickname",
        "middle_name",
        "membership",
        "grade",
        "graduation_year",
        "anniversary",
        "primary_campus",
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

#: The roles whose fields are merged both ways, and so take rules (and, for ``person``,
#: custom fields); the others are pulled from PCO as they are.
RULED_ROLES = tuple(PCO_OWNED)

#: The rule of every field nobody configured: today's behaviour.
DEFAULT_RULE = FieldRule()


def parse_rule(value: Any) -> FieldRule:
    """``"two_way"``, ``"push_only+keep_filled"`` or ``("pco_wins", "keep_filled")``."""
    if isinstance(value, FieldRule):
        return value
    if isinstance(value, list):
        value = tuple(value)
    return _parse(value)


@lru_cache(maxsize=256)  # asked for every field of every record a sync merges
def _parse(value: Any) -> FieldRule:
    parts = value.split("+") if isinstance(value, str) else list(value)
    words = [str(part).strip() for part in parts if str(part).strip()]
    modes = [word for word in words if word in MODES]
    unknown = [word for word in words if word not in MODES and word != KEEP_FILLED]
    if unknown or len(modes) > 1:
        raise ValueError(
            f"{value!r} is not a rule: use one of {', '.join(MODES)}, optionally with "
            f"'+{KEEP_FILLED}'"
        )
    return FieldRule(modes[0] if modes else "two_way", KEEP_FILLED in words)


def is_empty(value: Any) -> bool:
    """None, a blank string or an empty list: what ``keep_filled`` never lets win."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return value is None


def rule_problems(
    rules: Mapping[str, Mapping[str, Any]], fields: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """One line per rule that names an unknown role or field, or is not a rule."""
    problems = []
    for role, by_field in rules.items():
        if role not in RULED_ROLES:
            problems.append(f"rules for {role!r}: rules apply to {', '.join(RULED_ROLES)}")
            continue
        for name, value in by_field.items():
            if name not in fields.get(role, ()):
                known = ", ".join(fields.get(role, ()))
                problems.append(f"rule for {role}.{name}: no such synced field (known: {known})")
                continue
            try:
                parse_rule(value)
            except ValueError as error:
                problems.append(f"rule for {role}.{name}: {error}")
    return problems
