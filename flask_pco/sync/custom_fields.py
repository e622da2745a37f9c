"""Which PCO custom fields the host syncs, resolved against the organisation's definitions.

The definitions (``/people/v2/field_definitions?include=field_options``, one request for a
usual organisation) are read at most once per run and shared for a few minutes by every
context of the process, so webhook deliveries do not each pay for them. A mapped field PCO
does not have is reported once per run and left out; the other fields still sync. The values
themselves come with the people (``include=field_data``): no request per person.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask_pco.exceptions import DocumentError
from flask_pco.mapping.custom_fields import (
    FieldDefinition,
    definition_from_resource,
    resolve_fields,
)

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = [
    "DEFINITIONS_PATH",
    "person_custom_fields",
    "person_includes",
    "settle_fields",
    "unsettle_fields",
    "unsettled_fields",
]

DEFINITIONS_PATH = "/people/v2/field_definitions"
#: How long a process reuses the definitions it read (seconds): a renamed field is seen soon.
DEFINITIONS_TTL = 300.0
_CACHE_KEY = "pco_field_definitions"
_MEMO_KEY = "person_custom_fields"


def person_custom_fields(ctx: SyncContext) -> dict[str, FieldDefinition]:
    """The host's synced custom fields of people (logical name → PCO definition), resolved
    once per context; empty (and no request) when the host maps none."""
    if _MEMO_KEY in ctx.memo:
        return dict(ctx.memo[_MEMO_KEY])
    roles = ctx.roles
    wanted = {
        column: key
        for column, key in roles.custom.get("person", {}).items()
        if roles.rule("person", column).mode != "ignore" and roles.present("person", column)
    }
    found: dict[str, FieldDefinition] = {}
    if wanted:
        found, problems = resolve_fields(wanted, _definitions(ctx))
        for problem in problems:
            ctx.report.issue("invalid", "FieldDefinition", problem)
    ctx.memo[_MEMO_KEY] = found
    return dict(found)


def person_includes(ctx: SyncContext, base: tuple[str, ...]) -> tuple[str, ...]:
    """``base`` plus ``field_data`` when the host syncs custom fields."""
    return (*base, "field_data") if person_custom_fields(ctx) else base


def _definitions(ctx: SyncContext) -> list[FieldDefinition]:
    cached = ctx.state.cache.get(_CACHE_KEY)
    if cached is not None and time.monotonic() - cached[0] < DEFINITIONS_TTL:
        return list(cached[1])
    definitions = []
    for page in ctx.client.pages(DEFINITIONS_PATH, include=("field_options",)):
        for resource in page.data:
            try:
                definitions.append(definition_from_resource(resource, page))
            except DocumentError:  # pragma: no cover - a definition without an id
                continue
    ctx.state.cache[_CACHE_KEY] = (time.monotonic(), tuple(definitions))
    return definitions


#: The settings row naming the custom fields every linked person's snapshot holds.
SETTLED_KEY = "pco_people_fields_settled"


def unsettled_fields(ctx: SyncContext, names: Iterable[str]) -> tuple[str, ...]:
    """The custom fields a pull must find in a row's snapshot before taking the row for
    unchanged: none once a complete full pull has seen everyone with this same mapping
    (``settle_fields``), so an unchanged re-run reads no snapshot; all of them while the
    mapping is new, so a newly mapped field fills in without PCO changing anyone."""
    wanted = tuple(sorted(names))
    if not wanted:
        return ()
    settled = ctx.session.get(ctx.models.Setting, ctx.state.setting_key(SETTLED_KEY))
    return () if settled is not None and settled.value == list(wanted) else wanted


def settle_fields(ctx: SyncContext, names: Iterable[str]) -> None:
    """After a complete full pull: every person it listed holds these fields (it applied those
    that lacked one; people it could not write are retried by the next run whatever this says)."""
    key = ctx.state.setting_key(SETTLED_KEY)
    ctx.session.merge(ctx.models.Setting(key=key, value=sorted(names)))
    ctx.session.commit()


def unsettle_fields(ctx: SyncContext) -> None:
    """An undo may put back snapshots from before a field was mapped: check them again."""
    setting = ctx.session.get(ctx.models.Setting, ctx.state.setting_key(SETTLED_KEY))
    if setting is not None:
        ctx.session.delete(setting)
