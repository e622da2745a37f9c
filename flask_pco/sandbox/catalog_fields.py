"""People app: custom fields (FieldDefinition, FieldOption, FieldDatum; REFERENCE §5.7).

A FieldDefinition names a custom field and its ``data_type``; ``select`` and ``checkboxes``
fields list their choices as FieldOptions. A FieldDatum holds one person's value as a string,
with its ``field_definition`` (and, for a choice, its ``field_option``); a checkbox field has
one FieldDatum per checked option. Writes are checked against the definition: a value the
definition does not allow is a 422 Validation Error on ``value``, an unknown definition a 422
``attribute_resource_not_found``, as PCO answers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_pco.sandbox.errors import SandboxApiError, related_not_found, validation_entry
from flask_pco.sandbox.specs import Relation, ResourceSpec, fields
from flask_pco.sandbox.store import Store

FIELD_DEFINITION = ResourceSpec(
    table="FieldDefinition",
    type="FieldDefinition",
    self_path="/people/v2/field_definitions/{id}",
    attributes={**fields("config data_type deleted_at name sequence slug tab_id")},
    types={"sequence": "integer", "deleted_at": "date_time"},
    relations={"field_options": Relation("FieldOption", "many", "field_definition_id")},
    can_include=("field_options", "tab"),
    can_query_by=("config", "data_type", "deleted_at", "name", "sequence", "slug", "tab_id"),
    can_order_by=("config", "data_type", "deleted_at", "name", "sequence", "slug", "tab_id"),
)

FIELD_OPTION = ResourceSpec(
    table="FieldOption",
    type="FieldOption",
    self_path="/people/v2/field_definitions/{field_definition_id}/field_options/{id}",
    attributes={**fields("value sequence")},
    types={"sequence": "integer"},
    can_query_by=("sequence", "value"),
    can_order_by=("sequence", "value"),
)

_DATUM_WRITABLE = frozenset({"field_definition_id", "value", "file"})

FIELD_DATUM = ResourceSpec(
    table="FieldDatum",
    type="FieldDatum",
    self_path="/people/v2/field_data/{id}",
    attributes={**fields("file file_content_type file_name file_size value")},
    types={"file_size": "integer"},
    relations={
        "field_definition": Relation("FieldDefinition", "one", "field_definition_id", builtin=True),
        "field_option": Relation("FieldOption", "one", "field_option_id", builtin=True),
        "customizable": Relation("Person", "one", "person_id", builtin=True),
    },
    can_include=("field_definition", "field_option", "tab"),
    can_query_by=("file", "file_content_type", "file_name", "file_size", "value"),
    can_order_by=("file", "file_content_type", "file_name", "file_size", "value"),
    create=_DATUM_WRITABLE,
    update=_DATUM_WRITABLE - {"field_definition_id"},
)

FIELD_SPECS = (FIELD_DEFINITION, FIELD_OPTION, FIELD_DATUM)

#: The custom fields every sandbox organisation has: one of each data type the sync maps.
STANDARD_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("T-shirt size", "select", ("S", "M", "L", "XL")),
    ("Baptism date", "date", ()),
    ("Small group interest", "checkboxes", ("Bible study", "Prayer", "Service", "Youth")),
    ("Allergy notes", "text", ()),
    ("Years attending", "number", ()),
    ("Background check", "boolean", ()),
)

_CHOICES = ("select", "checkboxes")


def add_standard_fields(store: Store) -> None:
    """Create the standard field definitions and their options (no webhooks: seed data)."""
    for sequence, (name, data_type, options) in enumerate(STANDARD_FIELDS):
        slug = name.lower().replace(" ", "_").replace("-", "_")
        definition = {"name": name, "data_type": data_type, "sequence": sequence, "slug": slug,
                      "tab_id": "1", "config": None, "deleted_at": None}  # fmt: skip
        definition_id = store.insert("FieldDefinition", definition, emit=False)["id"]
        for position, value in enumerate(options):
            option = {"value": value, "sequence": position, "field_definition_id": definition_id}
            store.insert("FieldOption", option, emit=False)


def definition_named(store: Store, name_or_id: str) -> dict[str, Any] | None:
    """A field definition by id or by name (the control surface accepts either)."""
    found = store.get("FieldDefinition", str(name_or_id))
    if found is not None:
        return found
    table = store.table("FieldDefinition")
    return next((d for d in table.values() if d.get("name") == name_or_id), None)


def checked_datum(
    store: Store, attrs: dict[str, Any], existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The FieldDatum to store, with its option resolved, or PCO's 422 for its definition.

    ``existing``: the record a PATCH changes (its definition cannot be changed)."""
    definition_id = (
        existing["field_definition_id"] if existing else attrs.get("field_definition_id")
    )
    definition = store.get("FieldDefinition", str(definition_id)) if definition_id else None
    if definition is None or definition.get("deleted_at"):
        raise related_not_found("field_definition_id")
    attrs = {**attrs, "field_definition_id": definition["id"]}
    if "value" not in attrs:
        return attrs
    value, problem = _valid_value(store, definition, attrs["value"])
    if problem:
        raise SandboxApiError(422, [validation_entry("FieldDatum", "value", problem)])
    attrs["value"] = value
    if definition["data_type"] in _CHOICES:
        attrs["field_option_id"] = option_id(store, definition["id"], value)
    if existing is None:
        _refuse_second(store, attrs, definition["data_type"] == "checkboxes")
    return attrs


def _valid_value(store: Store, definition: dict[str, Any], raw: Any) -> tuple[str, str | None]:
    """The value as PCO stores it (a string), and why it is refused, if it is."""
    value = "" if raw is None else str(raw).strip()
    data_type = definition["data_type"]
    if not value:
        return value, "can't be blank"
    if data_type == "number":
        try:
            float(value)
        except ValueError:
            return value, "is not a number"
    elif data_type == "date":
        try:
            value = date.fromisoformat(value).isoformat()
        except ValueError:
            return value, "is not a valid date"
    elif data_type == "boolean":
        if value.lower() not in ("true", "false"):
            return value, "is not a boolean"
        value = value.lower()
    elif data_type in _CHOICES and option_id(store, definition["id"], value) is None:
        return value, "is not included in the list"
    return value, None


def option_id(store: Store, definition_id: str, value: str) -> str | None:
    for option_id in store.lookup("FieldOption", "field_definition_id", definition_id):
        if store.tables["FieldOption"][option_id]["value"] == value:
            return option_id
    return None


def _refuse_second(store: Store, attrs: dict[str, Any], checkbox: bool) -> None:
    """A person has one FieldDatum per field, or per checked option of a checkbox field."""
    for datum_id in store.lookup("FieldDatum", "person_id", attrs.get("person_id")):
        datum = store.tables["FieldDatum"][datum_id]
        same_field = datum["field_definition_id"] == attrs["field_definition_id"]
        if same_field and (not checkbox or datum.get("value") == attrs["value"]):
            entry = validation_entry("FieldDatum", "field_definition_id", "has already been taken")
            raise SandboxApiError(422, [entry])
