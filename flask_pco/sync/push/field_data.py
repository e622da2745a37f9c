"""Pushing a person's custom fields: FieldDatum records tied to their ``field_definition``.

PCO keeps a custom value as a FieldDatum under the person (``POST /people/v2/people/{id}/
field_data`` with ``field_definition_id`` and ``value``); a checkbox field has one per checked
option (REFERENCE §5.7). A changed value updates the FieldDatum in place, an emptied one
deletes it, a checkbox field gains and loses options one FieldDatum at a time. A value PCO
refuses (422: not one of the options, not a number) is reported with PCO's reason and skipped:
the person's other fields still go, and the field is tried again on the next push.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask_pco.client.ids import path_id
from flask_pco.mapping.custom_fields import FieldDefinition, to_pco_strings
from flask_pco.sync.push.records import REFUSED

if TYPE_CHECKING:
    from flask_pco.client import Resource
    from flask_pco.sync.context import SyncContext
    from flask_pco.sync.push.remote_index import RemotePerson

__all__ = ["push_field_values"]

_DATA_PATH = "/people/v2/field_data"


def push_field_values(
    ctx: SyncContext,
    row: Any,
    remote: RemotePerson,
    values: Mapping[str, Any],
    fields: Mapping[str, FieldDefinition],
) -> tuple[set[str], Resource | None]:
    """Write each custom value of ``values`` (logical name → value) to PCO; the fields PCO
    refused, and PCO's last answer (None when nothing was sent)."""
    refused: set[str] = set()
    last: Resource | None = None
    for name, value in values.items():
        definition = fields.get(name)
        if definition is None:
            continue
        existing = [
            (d, v) for d, definition_id, v in remote.field_data if definition_id == definition.id
        ]
        try:
            last = (
                _write(ctx, remote.id, definition, existing, to_pco_strings(definition, value))
                or last
            )
        except REFUSED as error:
            refused.add(name)
            reason = f"PCO refused {definition.name!r} = {value!r}: {error.detail or error}"
            ctx.report.issue("rejected", "FieldDatum", reason, local_id=row.id, pco_id=remote.id)
    return refused, last


def _write(
    ctx: SyncContext,
    person_id: str,
    definition: FieldDefinition,
    existing: list[tuple[str, str]],
    wanted: list[str],
) -> Resource | None:
    """Make the person's data of one field equal ``wanted``, with the fewest writes."""
    last = None
    if definition.data_type == "checkboxes":
        for datum_id, value in existing:
            if value not in wanted:
                ctx.client.delete(f"{_DATA_PATH}/{path_id(datum_id)}")
        have = {value for _, value in existing}
        for value in wanted:
            if value not in have:
                last = _create(ctx, person_id, definition, value)
        return last
    extra = existing[1:] if wanted else existing
    for datum_id, _ in extra:
        ctx.client.delete(f"{_DATA_PATH}/{path_id(datum_id)}")
    if not wanted:
        return None
    if existing:
        datum_id = existing[0][0]
        path = f"{_DATA_PATH}/{path_id(datum_id)}"
        return ctx.client.update(path, "FieldDatum", datum_id, {"value": wanted[0]})
    return _create(ctx, person_id, definition, wanted[0])


def _create(ctx: SyncContext, person_id: str, definition: FieldDefinition, value: str) -> Resource:
    path = f"/people/v2/people/{path_id(person_id)}/field_data"
    attributes = {
        "field_definition_id": int(definition.id) if definition.id.isdigit() else definition.id,
        "value": value,
    }
    return ctx.client.create(path, "FieldDatum", attributes)
