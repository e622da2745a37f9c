"""Generic handlers for every PCO route: one per route kind and verb, driven by the spec table."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response, request

from flask_pco.sandbox import mutations
from flask_pco.sandbox.catalog_fields import checked_datum
from flask_pco.sandbox.core import Sandbox
from flask_pco.sandbox.errors import SandboxApiError, not_found, related_not_found, validation_entry
from flask_pco.sandbox.fieldsets import apply_fieldsets, requested_fieldsets
from flask_pco.sandbox.query import paging, parse_query, select
from flask_pco.sandbox.registry import SPECS
from flask_pco.sandbox.routes import Route
from flask_pco.sandbox.serialize import (
    RenderContext,
    discovery_meta,
    parse_includes,
    related_ids,
    render_included,
    render_resource,
    single_document,
)
from flask_pco.sandbox.specs import ResourceSpec
from flask_pco.sandbox.writes import checked_attributes, payload_data, relationship_ids

Document = tuple[dict[str, Any] | None, int]


def _scope(
    sandbox: Sandbox, route: Route, parent_id: str | None
) -> tuple[list[str] | None, dict[str, str]]:
    """Ids allowed under a nested URL (None when not nested) and the ``meta.parent``."""
    if route.scope is None:
        return None, {"id": sandbox.settings.organization_id, "type": "Organization"}
    parent_spec = SPECS[route.scope[0]]
    parent = sandbox.store.get(parent_spec.table, parent_id)
    if parent is None:
        raise not_found()
    ids = related_ids(sandbox.store, parent_spec.relations[route.scope[1]], parent)
    return ids, {"id": parent["id"], "type": parent_spec.type}


def list_records(
    sandbox: Sandbox, route: Route, spec: ResourceSpec, ctx: RenderContext, parent_id: str | None
) -> Document:
    ids, parent = _scope(sandbox, route, parent_id)
    table = sandbox.store.table(spec.table)
    records = None if ids is None else [table[i] for i in ids if i in table]
    query = parse_query(request.args, spec)
    chosen = select(spec, records, query, sandbox.store, sandbox.settings.time_zone)
    page = chosen[query.offset : query.offset + query.per_page]
    includes = parse_includes(spec, request.args.get("include"))
    links, paging_meta = paging(len(chosen), query, ctx.base_url, request.path, request.args)
    meta = {"total_count": len(chosen), "count": len(page), **paging_meta, **discovery_meta(spec)}
    data = [render_resource(spec, record, ctx, includes) for record in page]
    document = {
        "links": links,
        "data": data,
        "included": render_included(spec, data, ctx, includes),
        "meta": {**meta, "parent": parent},
    }
    return document, 200


def _member(
    sandbox: Sandbox, route: Route, spec: ResourceSpec, record_id: str, parent_id: str | None
) -> dict[str, Any]:
    ids, _ = _scope(sandbox, route, parent_id)
    record = sandbox.store.get(spec.table, record_id)
    if record is None or (ids is not None and record_id not in ids):
        raise not_found()
    return record


def show(spec: ResourceSpec, ctx: RenderContext, record: dict[str, Any]) -> Document:
    includes = parse_includes(spec, request.args.get("include"))
    return single_document(spec, record, ctx, includes), 200


def _person_ref(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any], key: str = "person_id"
) -> str:
    person_id = str(attrs.pop(key, None) or (relationship_ids(data, "person") or [""])[0])
    if sandbox.store.get("Person", person_id) is None:
        raise related_not_found(key)
    return person_id


def _taken(spec: ResourceSpec, parameter: str) -> SandboxApiError:
    return SandboxApiError(422, [validation_entry(spec.type, parameter, "has already been taken")])


def _create_household(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, Any]:
    people = relationship_ids(data, "people") or []
    primary = (
        relationship_ids(data, "primary_contact") or [attrs.pop("primary_contact_id", None)]
    )[0]
    missing = [
        name for name, value in (("people", people), ("primary_contact", primary)) if not value
    ]
    if missing:
        entries = [validation_entry("Household", name, "can't be blank") for name in missing]
        raise SandboxApiError(422, entries)
    if any(sandbox.store.get("Person", person_id) is None for person_id in [*people, primary]):
        raise related_not_found("person_id")
    return mutations.create_household(sandbox.store, attrs, people, primary)


def _create_household_membership(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, Any]:
    person_id = _person_ref(sandbox, data, attrs)
    household_id = attrs["household_id"]
    if person_id in sandbox.member_ids("Household", "people", {"id": household_id}):
        raise _taken(SPECS["HouseholdMembership"], "person_id")
    return mutations.add_household_member(
        sandbox.store, household_id, person_id, bool(attrs.get("pending"))
    )


def _create_group_membership(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, Any]:
    person_id = _person_ref(sandbox, data, attrs)
    if mutations.group_membership_of(sandbox.store, attrs["group_id"], person_id) is not None:
        raise _taken(SPECS["Membership"], "person_id")
    return mutations.add_group_membership(
        sandbox.store,
        attrs["group_id"],
        person_id,
        attrs.get("role") or "member",
        attrs.get("joined_at"),
    )


def _create_subscription(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, Any]:
    if sandbox.store.get("AvailableEvent", attrs.get("name")) is None:
        raise SandboxApiError(
            422, [validation_entry("Subscription", "name", "is not a valid event name")]
        )
    return mutations.create_subscription(sandbox.store, attrs, sandbox.settings.app_id)


def _create_field_datum(
    sandbox: Sandbox, data: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, Any]:
    attrs = checked_datum(sandbox.store, attrs)
    return mutations.create(sandbox.store, "FieldDatum", attrs, sandbox.settings.country_code)


CREATORS: dict[str, Callable[[Sandbox, dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "Household": _create_household,
    "HouseholdMembership": _create_household_membership,
    "Membership": _create_group_membership,
    "Subscription": _create_subscription,
    "FieldDatum": _create_field_datum,
}


def create(
    sandbox: Sandbox, route: Route, spec: ResourceSpec, ctx: RenderContext, parent_id: str | None
) -> Document:
    _scope(sandbox, route, parent_id)
    data = payload_data(request.get_json(silent=True))
    attrs = checked_attributes(spec, data, True, ctx.version)
    if route.scope is not None:
        attrs[SPECS[route.scope[0]].relations[route.scope[1]].key] = parent_id
    creator = CREATORS.get(spec.table)
    region = sandbox.settings.country_code
    record = (
        creator(sandbox, data, attrs)
        if creator
        else mutations.create(sandbox.store, spec.table, attrs, region)
    )
    return single_document(spec, record, ctx, []), 201


def update(
    sandbox: Sandbox, spec: ResourceSpec, ctx: RenderContext, record: dict[str, Any]
) -> Document:
    data = payload_data(request.get_json(silent=True))
    attrs = checked_attributes(spec, data, False, ctx.version)
    if spec.table == "FieldDatum":
        attrs = checked_datum(sandbox.store, attrs, record)
    record = mutations.update(
        sandbox.store, spec.table, record["id"], attrs, sandbox.settings.country_code
    )
    return single_document(spec, record, ctx, []), 200


def delete(sandbox: Sandbox, spec: ResourceSpec, record: dict[str, Any]) -> Document:
    mutations.delete_record(sandbox.store, spec.table, record["id"])
    return None, 204


def rotate_secret(
    sandbox: Sandbox, spec: ResourceSpec, ctx: RenderContext, record: dict[str, Any]
) -> Document:
    record = sandbox.store.update(
        spec.table, record["id"], {"authenticity_secret": mutations.new_secret()}
    )
    return single_document(spec, record, ctx, []), 200


def dispatch(
    sandbox: Sandbox, route: Route, ctx: RenderContext, record_id: str | None, parent_id: str | None
) -> Document:
    """Run the handler for this route kind and verb; anything unsupported is PCO's 404."""
    spec, method = SPECS[route.spec], request.method
    if method not in route.methods or not route.versions[0] <= ctx.version < route.versions[1]:
        raise not_found()
    if route.kind == "singleton":
        organization = next(iter(sandbox.store.table(spec.table).values()))
        return sparse(show(spec, ctx, organization))
    if route.kind == "collection":
        if method == "POST":
            return create(sandbox, route, spec, ctx, parent_id)
        return sparse(list_records(sandbox, route, spec, ctx, parent_id))
    record = _member(sandbox, route, spec, str(record_id), parent_id)
    if route.kind == "action":
        return rotate_secret(sandbox, spec, ctx, record)
    handlers: dict[str, Callable[[], Document]] = {
        "GET": lambda: sparse(show(spec, ctx, record)),
        "PATCH": lambda: update(sandbox, spec, ctx, record),
        "DELETE": lambda: delete(sandbox, spec, record),
    }
    return handlers[method]()


def sparse(answer: Document) -> Document:
    """A read's document cut to the request's sparse fieldsets (``fields[TYPE]``)."""
    apply_fieldsets(answer[0], requested_fieldsets(request.args))
    return answer


def respond(document: dict[str, Any] | None, status: int) -> Response:
    body = "" if document is None else json.dumps(document, separators=(",", ":"))
    return Response(body, status=status, content_type="application/vnd.api+json; charset=utf-8")
