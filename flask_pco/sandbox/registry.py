"""Every resource spec by name, and the indexes the store must keep for them."""

from __future__ import annotations

from flask_pco.sandbox.catalog_fields import FIELD_SPECS
from flask_pco.sandbox.catalog_groups import GROUPS_SPECS
from flask_pco.sandbox.catalog_households import HOUSEHOLD_SPECS
from flask_pco.sandbox.catalog_other import OTHER_SPECS
from flask_pco.sandbox.catalog_people import PEOPLE_SPECS
from flask_pco.sandbox.specs import ResourceSpec

#: Relation targets name a spec here; most names equal their table.
SPECS: dict[str, ResourceSpec] = {
    spec.key: spec
    for spec in (*PEOPLE_SPECS, *FIELD_SPECS, *HOUSEHOLD_SPECS, *GROUPS_SPECS, *OTHER_SPECS)
}


def index_columns() -> dict[str, set[str]]:
    """Columns to index per table: foreign keys that relations follow, plus declared extras."""
    columns: dict[str, set[str]] = {}
    for spec in SPECS.values():
        columns.setdefault(spec.table, set()).update(spec.extra_indexes)
        for relation in spec.relations.values():
            keys = relation.index_keys()
            if keys:
                table = SPECS[keys[0]].table
                columns.setdefault(table, set()).add(keys[1])
    return columns
