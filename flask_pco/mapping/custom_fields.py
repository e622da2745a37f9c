"""PCO custom fields (FieldDefinition, FieldDatum) ↔ Python values, both ways.

PCO keeps every custom value as a string on a FieldDatum; the definition's ``data_type`` says
what it means. Pulled values become ``str`` (text, select), ``int``/``float`` (number),
``date`` (date), ``bool`` (boolean) and a list of the checked options (checkboxes). A value its
type does not allow (left behind when staff changed a field's type) is dropped with a reason:
the person's other fields still sync. Pushed values go back as PCO's strings; a checkbox field
becomes one FieldDatum per checked option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_pco.client.jsonapi import Document, Resource

__all__ = [
    "FieldDefinition",
    "custom_values",
    "definition_from_resource",
    "resolve_fields",
    "to_pco_strings",
]

#: The data types the sync maps; others (file, header) are refused at the first run.
TYPES = ("string", "text", "number", "date", "boolean", "select", "checkboxes")


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    """One custom field of the organisation."""

    id: str
    name: str
    data_type: str
    #: The choices of a ``select`` or ``checkboxes`` field, in PCO's order.
    options: tuple[str, ...] = ()


def definition_from_resource(resource: Resource, document: Document) -> FieldDefinition:
    """A FieldDefinition with the options ``document`` included (``include=field_options``)."""
    options = sorted(
        document.related(resource, "field_options"), key=lambda o: o.get("sequence") or 0
    )
    return FieldDefinition(
        id=resource.id,
        name=str(resource.get("name") or ""),
        data_type=str(resource.get("data_type") or "text"),
        options=tuple(str(o.get("value")) for o in options if o.get("value") is not None),
    )


def resolve_fields(
    wanted: Mapping[str, str], definitions: Iterable[FieldDefinition]
) -> tuple[dict[str, FieldDefinition], list[str]]:
    """Each logical field's definition (``wanted``: logical name → PCO name or id), and a
    line per field PCO does not have, has twice, or holds in a type the sync cannot map."""
    by_id = {d.id: d for d in definitions}
    by_name: dict[str, list[FieldDefinition]] = {}
    for definition in by_id.values():
        by_name.setdefault(definition.name.strip().lower(), []).append(definition)
    found: dict[str, FieldDefinition] = {}
    problems = []
    for logical, key in wanted.items():
        matches = [by_id[key]] if key in by_id else by_name.get(key.strip().lower(), [])
        if len(matches) != 1:
            why = "does not exist" if not matches else "names several fields: map it by id"
            problems.append(f"PCO custom field {key!r} (for {logical}) {why}")
        elif matches[0].data_type not in TYPES:
            problems.append(f"PCO custom field {key!r} is a {matches[0].data_type} field")
        else:
            found[logical] = matches[0]
    return found, problems


def custom_values(
    resource: Resource, document: Document, fields: Mapping[str, FieldDefinition]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The person's custom values by logical name (None for a field without data), and why
    a value was dropped. None when the document did not include the person's field data (a
    webhook payload): nothing is known, so nothing may be cleared."""
    if "field_data" not in resource.relationships:
        return None, []
    data: dict[str, list[str]] = {}
    for datum in document.related(resource, "field_data"):
        definition_id = datum.related_id("field_definition")
        if definition_id is not None and datum.get("value") is not None:
            data.setdefault(definition_id, []).append(str(datum.get("value")))
    values: dict[str, Any] = {}
    problems = []
    for logical, definition in fields.items():
        try:
            values[logical] = from_pco(definition, data.get(definition.id, []))
        except ValueError as error:
            problems.append(f"custom field {definition.name!r}: {error}")
    return values, problems


def from_pco(definition: FieldDefinition, raw: list[str]) -> Any:
    """The Python value of a field's data; ValueError for one its type does not allow."""
    kind = definition.data_type
    if kind == "checkboxes":
        unknown = [v for v in raw if definition.options and v not in definition.options]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not one of its options")
        order = {option: n for n, option in enumerate(definition.options)}
        return sorted(set(raw), key=lambda v: order.get(v, len(order))) or None
    value = raw[0].strip() if raw else ""
    if not value:
        return None
    if kind == "number":
        return _number(value)
    if kind == "date":
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a date") from None
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return value.lower() == "true"
    if kind == "select" and definition.options and value not in definition.options:
        raise ValueError(f"{value!r} is not one of its options")
    return value


def _number(value: str) -> int | float:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return int(number) if number == number.to_integral_value() else float(number)


def to_pco_strings(definition: FieldDefinition, value: Any) -> list[str]:
    """The FieldDatum values that hold ``value`` in PCO: none for an empty value, one per
    checked option of a checkbox field, else one."""
    if value is None or value == "" or value == []:
        return []
    if definition.data_type == "checkboxes":
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    if definition.data_type == "boolean":
        return ["true" if value else "false"]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value).strip()]
