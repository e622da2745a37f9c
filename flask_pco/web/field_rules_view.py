"""The admin page's "Synced fields" card: every synced field with its column and sync rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_pco.field_rules import PCO_OWNED

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = ["SyncedField", "synced_fields"]

#: What each rule does, in the words the page shows.
RULE_WORDS = {
    "two_way": "two-way; both changed: PCO's value, the site's kept as a conflict",
    "pco_wins": "two-way; both changed: PCO's value",
    "local_wins": "two-way; both changed: the site's value",
    "pull_only": "from PCO only",
    "push_only": "to PCO only",
    "ignore": "not synced",
}


@dataclass(frozen=True, slots=True)
class SyncedField:
    role: str
    field: str
    column: str
    #: The PCO custom field behind a custom column, else None.
    custom: str | None
    rule: str
    meaning: str


def synced_fields(state: PcoState) -> list[SyncedField]:
    """Each registered role's PCO-owned and custom fields the host has a column for."""
    roles = state.roles
    found = []
    for role in PCO_OWNED:
        if not roles.has(role):
            continue
        custom = roles.custom.get(role, {})
        for name in (*PCO_OWNED[role], *custom):
            if not roles.present(role, name):
                continue
            rule = roles.rule(role, name)
            meaning = RULE_WORDS[rule.mode]
            if rule.keep_filled:
                meaning += "; an empty value never clears a filled one"
            found.append(
                SyncedField(
                    role, name, roles.column(role, name), custom.get(name), str(rule), meaning
                )
            )
    return found
