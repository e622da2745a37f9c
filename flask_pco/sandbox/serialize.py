"""Records to JSON:API resource objects and documents, as PCO renders them (REFERENCE §1.1-1.4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_pco.sandbox.computed import COMPUTED
from flask_pco.sandbox.registry import SPECS
from flask_pco.sandbox.specs import ORGANIZATION_ID, Relation, ResourceSpec
from flask_pco.sandbox.store import Store


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs beyond the record: where links point and which API version."""

    store: Store
    base_url: str
    version: str
    #: The emulated organisation's id: the ``meta.parent`` of every top-level document.
    organization_id: str = ORGANIZATION_ID

    @property
    def organization_parent(self) -> dict[str, str]:
        return {"id": self.organization_id, "type": "Organization"}

    def url(self, path: str) -> str:
        return self.base_url + path


def related_ids(store: Store, relation: Relation, record: dict[str, Any]) -> list[str]:
    """Ids reached through a relation, in the store's (id) order."""
    if relation.kind == "one":
        value = record.get(relation.key)
        return [str(value)] if value is not None else []
    if relation.kind == "many":
        return store.lookup(SPECS[relation.target].table, relation.key, record["id"])
    via = store.tables.get(str(relation.via), {})
    links = store.lookup(str(relation.via), relation.key, record["id"])
    return [str(via[link_id][str(relation.via_key)]) for link_id in links]


def self_path(spec: ResourceSpec, record: dict[str, Any]) -> str:
    return spec.self_path.format_map(record)


def _relationship(
    ctx: RenderContext, relation: Relation, record: dict[str, Any], related_url: str | None
) -> dict[str, Any]:
    target_type = SPECS[relation.target].type
    refs = [{"type": target_type, "id": rid} for rid in related_ids(ctx.store, relation, record)]
    data: Any = (refs[0] if refs else None) if relation.kind == "one" else refs
    if related_url is None:
        return {"data": data}
    return {"links": {"related": related_url}, "data": data}


def render_resource(
    spec: ResourceSpec, record: dict[str, Any], ctx: RenderContext, includes: Iterable[str] = ()
) -> dict[str, Any]:
    """One resource object; ``includes`` adds the relationship blocks for included names."""
    self_url = ctx.url(self_path(spec, record))
    attributes = {name: record.get(name, default) for name, default in spec.sorted_attributes}
    hook = COMPUTED.get(spec.key)
    if hook and hook(attributes, record, ctx):
        attributes = dict(sorted(attributes.items()))
    relationships = {
        name: _relationship(ctx, rel, record, None) for name, rel in spec.builtin_relations
    }
    for name in includes:
        if name in spec.relations:
            relationships[name] = _relationship(
                ctx, spec.relations[name], record, f"{self_url}/{name}"
            )
    links = {
        name: self_url + rest if relative else ctx.url(rest.format_map(record))
        for name, relative, rest in spec.link_plan
    }
    links["self"] = self_url
    return {
        "type": spec.type,
        "id": record["id"],
        "attributes": attributes,
        "relationships": relationships,
        "links": links,
    }


def render_included(
    spec: ResourceSpec, resources: Iterable[dict[str, Any]], ctx: RenderContext, includes: list[str]
) -> list[dict[str, Any]]:
    """The de-duplicated ``included`` array, from the relationship data already rendered."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for name in includes:
        target = SPECS[spec.relations[name].target]
        table = ctx.store.table(target.table)
        for resource in resources:
            data = resource["relationships"][name]["data"]
            for ref in data if isinstance(data, list) else [data] if data else []:
                key = (target.type, ref["id"])
                if key not in seen and ref["id"] in table:
                    seen[key] = render_resource(target, table[ref["id"]], ctx)
    return list(seen.values())


def parse_includes(spec: ResourceSpec, raw: str | None) -> list[str]:
    """Requested include names this sandbox can follow; others are ignored, as PCO does."""
    names = [name.strip() for name in (raw or "").split(",") if name.strip()]
    return [name for name in dict.fromkeys(names) if name in spec.relations]


def single_document(
    spec: ResourceSpec,
    record: dict[str, Any],
    ctx: RenderContext,
    includes: list[str],
    parent: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if spec.can_include:
        meta["can_include"] = list(spec.can_include)
    meta["parent"] = parent or ctx.organization_parent
    data = render_resource(spec, record, ctx, includes)
    return {"data": data, "included": render_included(spec, [data], ctx, includes), "meta": meta}


def discovery_meta(spec: ResourceSpec) -> dict[str, Any]:
    """The ``can_*`` lists of a collection; empty ones are omitted, as PCO does."""
    lists = {
        "can_order_by": spec.can_order_by,
        "can_query_by": spec.can_query_by,
        "can_include": spec.can_include,
        "can_filter": spec.can_filter,
    }
    return {key: list(value) for key, value in lists.items() if value}
