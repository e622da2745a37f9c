"""The ``/_sandbox`` control surface: "PCO-side" edits, state, request log, faults, webhooks.

No authentication and no faults apply here; every edit goes through the same mutations as the
API, so it bumps ``updated_at`` and fires webhooks exactly like a change made in PCO's UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from flask_pco.sandbox import mutations
from flask_pco.sandbox.catalog_fields import definition_named, option_id
from flask_pco.sandbox.core import Sandbox
from flask_pco.sandbox.organizations import current_sandbox
from flask_pco.sandbox.store import utc_stamp
from flask_pco.sandbox.webhooks import PEOPLE_EVENT_NAMES

control = Blueprint("pco_sandbox_control", __name__)

#: Control URL segment -> store table for generic edits.
EDITABLE = {
    "people": "Person",
    "emails": "Email",
    "phone_numbers": "PhoneNumber",
    "addresses": "Address",
    "households": "Household",
    "household_memberships": "HouseholdMembership",
    "group_memberships": "Membership",
    "field_data": "FieldDatum",
    "campuses": "Campus",
    #: ``{"active": false}`` or ``{"authenticity_secret": ...}`` (null: a fresh one), as in PCO's UI.
    "subscriptions": "Subscription",
}
CONTACT_KINDS = (("emails", "Email", "address"), ("phone_numbers", "PhoneNumber", "number"),
                 ("addresses", "Address", "street_line_1"))  # fmt: skip


def _sandbox() -> Sandbox:
    """The organisation named by ``X-Sandbox-Organization``, else the first."""
    return current_sandbox()


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _missing(table: str, record_id: str) -> ResponseReturnValue:
    return jsonify(error=f"no {table} {record_id}"), 404


def _existing(kind: str, record_id: str) -> str | None:
    """The table behind a control URL segment, if that record exists."""
    table = EDITABLE.get(kind, "")
    return table if _sandbox().store.get(table, record_id) is not None else None


@control.post("/reset")
def reset() -> ResponseReturnValue:
    body = _body()
    _sandbox().settings.denied_apps = frozenset()
    _sandbox().reset(int(body.get("people", 0)), int(body.get("seed", 1)))
    return jsonify(_sandbox().state(include_records=False))


def add_person(sandbox: Sandbox, spec: dict[str, Any]) -> str:
    """Create a person and their contact records (strings or attribute dicts)."""
    contacts = {kind for kind, _, _ in CONTACT_KINDS} | {"custom_fields"}
    attrs = {k: v for k, v in spec.items() if k not in contacts}
    region = sandbox.settings.country_code
    person = mutations.create(sandbox.store, "Person", attrs, region)
    for kind, table, main in CONTACT_KINDS:
        for n, item in enumerate(spec.get(kind) or []):
            fields = item if isinstance(item, dict) else {main: item}
            defaults = {
                "location": "Mobile" if table == "PhoneNumber" else "Home",
                "primary": n == 0,
            }
            record = {**defaults, **fields, "person_id": person["id"]}
            mutations.create(sandbox.store, table, record, region, touch_owner=False)
    for name, value in (spec.get("custom_fields") or {}).items():
        add_field_data(sandbox, str(person["id"]), name, value, touch_owner=False)
    return str(person["id"])


def add_field_data(
    sandbox: Sandbox, person_id: str, field: str, value: Any, touch_owner: bool = True
) -> list[str]:
    """Give a person a custom field's value (a list checks several boxes), as staff would in
    PCO's UI; stored as given, so a test can hold a value the field's type no longer allows."""
    definition = definition_named(sandbox.store, field)
    if definition is None:
        raise KeyError(f"no custom field {field!r}")
    ids = []
    for item in value if isinstance(value, list) else [value]:
        datum = {"field_definition_id": definition["id"], "value": item, "person_id": person_id}
        option = option_id(sandbox.store, definition["id"], str(item))
        record = mutations.create(
            sandbox.store, "FieldDatum", {**datum, "field_option_id": option},
            touch_owner=touch_owner,
        )  # fmt: skip
        ids.append(str(record["id"]))
    return ids


@control.post("/people/<record_id>/field_data")
def create_field_data(record_id: str) -> ResponseReturnValue:
    """``{"field": "T-shirt size", "value": "L"}``: set a custom field "in PCO"."""
    body, sandbox = _body(), _sandbox()
    with sandbox.store.lock:
        if sandbox.store.get("Person", record_id) is None:
            return _missing("people", record_id)
        try:
            ids = add_field_data(sandbox, record_id, str(body.get("field")), body.get("value"))
        except KeyError as error:
            return jsonify(error=str(error.args[0])), 404
    return jsonify(ids=ids), 201


@control.post("/people")
def create_person() -> ResponseReturnValue:
    sandbox = _sandbox()
    with sandbox.store.lock:
        return jsonify(id=add_person(sandbox, _body())), 201


@control.post("/households")
def create_household() -> ResponseReturnValue:
    body, sandbox = _body(), _sandbox()
    people = [str(pid) for pid in body.get("people", [])]
    with sandbox.store.lock:
        attrs = {"name": body.get("name") or "Household"}
        household = mutations.create_household(
            sandbox.store, attrs, people, body.get("primary_contact")
        )
    return jsonify(id=household["id"]), 201


@control.post("/campuses")
def create_campus() -> ResponseReturnValue:
    """A campus "in PCO" (``{"name": ..., "time_zone": ...}``); PCO sends no webhook for it."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        return jsonify(id=sandbox.store.insert("Campus", _body(), emit=False)["id"]), 201


@control.post("/people/<record_id>/<kind>")
def add_contact(record_id: str, kind: str) -> ResponseReturnValue:
    """One more email, phone number or address for a person "in PCO" (bumps the person)."""
    sandbox = _sandbox()
    table = {name: table for name, table, _ in CONTACT_KINDS}.get(kind)
    with sandbox.store.lock:
        if table is None or _existing("people", record_id) is None:
            return _missing(kind, record_id)
        record = {**_body(), "person_id": record_id}
        created = mutations.create(sandbox.store, table, record, sandbox.settings.country_code)
    return jsonify(id=created["id"]), 201


@control.post("/households/<record_id>/members")
def add_household_member(record_id: str) -> ResponseReturnValue:
    sandbox, person_id = _sandbox(), str(_body().get("person_id"))
    with sandbox.store.lock:
        if _existing("households", record_id) is None or _existing("people", person_id) is None:
            return _missing("households", f"{record_id}/{person_id}")
        member = mutations.add_household_member(sandbox.store, record_id, person_id)
    return jsonify(id=member["id"]), 201


@control.post("/groups/<group_id>/memberships")
def add_group_membership(group_id: str) -> ResponseReturnValue:
    """Join a group "in PCO" (``{"person_id": ..., "role": "leader"}``): one
    ``groups.v2.events.membership.created``, as a leader adding someone in Groups sends."""
    body, sandbox = _body(), _sandbox()
    person_id, role = str(body.get("person_id")), str(body.get("role") or "member")
    store = sandbox.store
    with store.lock:
        if store.get("Group", group_id) is None or store.get("Person", person_id) is None:
            return _missing("groups", f"{group_id}/{person_id}")
        if mutations.group_membership_of(store, group_id, person_id) is not None:
            return jsonify(error=f"person {person_id} is in group {group_id} already"), 422
        membership = mutations.add_group_membership(store, group_id, person_id, role)
    return jsonify(id=membership["id"]), 201


@control.patch("/<kind>/<record_id>")
def edit(kind: str, record_id: str) -> ResponseReturnValue:
    sandbox = _sandbox()
    with sandbox.store.lock:
        table = _existing(kind, record_id)
        if table is None:
            return _missing(kind, record_id)
        region = sandbox.settings.country_code
        changes = _body()
        if table == "Subscription" and "authenticity_secret" in changes:
            changes["authenticity_secret"] = (
                changes["authenticity_secret"] or mutations.new_secret()
            )
        return jsonify(mutations.update(sandbox.store, table, record_id, changes, region))


@control.delete("/<kind>/<record_id>")
def remove(kind: str, record_id: str) -> ResponseReturnValue:
    sandbox = _sandbox()
    with sandbox.store.lock:
        table = _existing(kind, record_id)
        if table is None:
            return _missing(kind, record_id)
        mutations.delete_record(sandbox.store, table, record_id)
    return "", 204


@control.post("/merge")
def merge() -> ResponseReturnValue:
    body, sandbox = _body(), _sandbox()
    keep, drop = str(body["keep_id"]), str(body["remove_id"])
    with sandbox.store.lock:
        if sandbox.store.get("Person", keep) is None or sandbox.store.get("Person", drop) is None:
            return _missing("people", f"{keep}/{drop}")
        merger = mutations.merge_people(sandbox.store, keep, drop)
    return jsonify(id=merger["id"]), 201


@control.post("/scenario")
def load_scenario() -> ResponseReturnValue:
    """Replace all data with explicit records: ``{"people": [...], "households": [...]}``."""
    body, sandbox = _body(), _sandbox()
    sandbox.reset(0, 0)
    with sandbox.store.lock:
        people = [add_person(sandbox, spec) for spec in body.get("people", [])]
        households = []
        for spec in body.get("households", []):
            members = [people[i] if isinstance(i, int) else str(i) for i in spec.get("people", [])]
            attrs = {"name": spec.get("name") or "Household"}
            primary = spec.get("primary_contact")
            primary = people[primary] if isinstance(primary, int) else primary
            households.append(
                mutations.create_household(sandbox.store, attrs, members, primary)["id"]
            )
    return jsonify(people=people, households=households), 201


@control.get("/state")
def state() -> ResponseReturnValue:
    return jsonify(_sandbox().state(include_records=request.args.get("records", "1") != "0"))


@control.get("/requests")
def requests_log() -> ResponseReturnValue:
    with _sandbox().log_lock:
        return jsonify(list(_sandbox().request_log))


@control.delete("/requests")
def clear_requests() -> ResponseReturnValue:
    with _sandbox().log_lock:
        _sandbox().request_log.clear()
    return "", 204


@control.post("/rate_limit")
def set_rate_limit() -> ResponseReturnValue:
    body = _body()
    _sandbox().limiter.configure(int(body.get("limit", 100)), int(body.get("period", 20)))
    return jsonify(limit=_sandbox().limiter.limit, period=_sandbox().limiter.period)


@control.post("/access")
def set_access() -> ResponseReturnValue:
    """Simulate a PCO user without access to some apps (``{"denied_apps": ["groups"]}``)."""
    settings = _sandbox().settings
    settings.denied_apps = frozenset(_body().get("denied_apps") or ())
    return jsonify(denied_apps=sorted(settings.denied_apps))


@control.post("/clock")
def set_clock() -> ResponseReturnValue:
    """Stamp every change with one time (``{"at": "2099-01-01T00:00:00Z"}``): PCO's stamps have
    one-second resolution, so edits close together share one. ``{"at": null}``: the real clock."""
    at = _body().get("at")
    if at is not None:
        try:
            datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        except ValueError:
            return jsonify(error=f"at must be an ISO 8601 time or null, not {at!r}"), 400
    store = _sandbox().store
    with store.lock:
        store.clock = (lambda: str(at)) if at is not None else utc_stamp
    return jsonify(at=at)


@control.post("/faults")
def set_faults() -> ResponseReturnValue:
    try:
        _sandbox().faults.configure(_body())
    except ValueError as error:
        return jsonify(error=str(error)), 400
    return jsonify(_sandbox().faults.settings())


@control.post("/webhooks/subscribe")
def subscribe() -> ResponseReturnValue:
    """Active subscriptions for ``url``, all sharing one secret so a receiver needs only one."""
    body, sandbox = _body(), _sandbox()
    secret = mutations.new_secret()
    with sandbox.store.lock:
        ids = [
            sandbox.store.insert("Subscription", {
                "name": name, "url": body["url"], "active": True, "authenticity_secret": secret,
                "application_id": sandbox.settings.app_id}, emit=False)["id"]
            for name in body.get("names") or PEOPLE_EVENT_NAMES
        ]  # fmt: skip
    return jsonify(secret=secret, ids=ids), 201


@control.post("/webhooks/flush")
def flush_webhooks() -> ResponseReturnValue:
    drained = _sandbox().webhooks.flush(float(_body().get("timeout", 15)))
    return jsonify(drained=drained), 200 if drained else 504


@control.post("/webhooks/chaos")
def webhook_chaos() -> ResponseReturnValue:
    body, webhooks = _body(), _sandbox().webhooks
    webhooks.duplicate_rate = float(body.get("duplicate_rate", 0.0))
    webhooks.shuffle = bool(body.get("shuffle", False))
    webhooks.delay_ms = int(body.get("delay_ms", 0))
    return jsonify(
        duplicate_rate=webhooks.duplicate_rate, shuffle=webhooks.shuffle, delay_ms=webhooks.delay_ms
    )


@control.get("/webhooks/deliveries")
def webhook_deliveries() -> ResponseReturnValue:
    return jsonify(list(_sandbox().webhooks.log))
