"""Webhook subscriptions API and signed deliveries in PCO's EventDelivery format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from flask_pco.sandbox import SandboxControl, sign_body
from flask_pco.sandbox.webhooks import delivery_body

from .conftest import Receiver

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "pco_examples"
EXAMPLE_SECRET = "5f2c8a0d9e7b4c1a3f6e8d0b2a4c6e8f5f2c8a0d9e7b4c1a3f6e8d0b2a4c6e8f"


def deliveries(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(item["body"])["data"][0] for item in receiver.received]


def test_sign_body_matches_the_signed_example() -> None:
    raw = (EXAMPLES / "webhook_person_created.body.json").read_bytes()
    assert (
        sign_body(raw, EXAMPLE_SECRET)
        == "e7c94e80309de083908176def16803e28a2aa961363854f22abd7ad98fabe002"
    )


def test_person_created_delivery_is_signed_and_shaped_like_pco(
    control: SandboxControl, receiver: Receiver
) -> None:
    secret = control.subscribe(receiver.url)
    pid = control.add_person(first_name="Dana", last_name="Newcomer")
    control.flush_webhooks()
    item = next(
        i
        for i in receiver.received
        if i["headers"]["X-Pco-Webhooks-Name"] == "people.v2.events.person.created"
    )
    headers, body = item["headers"], item["body"]
    assert headers["X-Pco-Webhooks-Authenticity"] == sign_body(body, secret)
    delivery = json.loads(body)["data"][0]
    assert headers["X-Pco-Webhooks-Event"] == delivery["id"]
    assert headers["X-Pco-Webhooks-Event-Id"].isdigit() and headers[
        "X-Pco-Webhooks-Event-Time"
    ].endswith("Z")
    assert delivery["type"] == "EventDelivery" and delivery["attributes"]["attempt"] == 1
    assert delivery["relationships"] == {
        "organization": {"data": {"type": "Organization", "id": "300001"}}
    }
    payload = json.loads(delivery["attributes"]["payload"])
    assert payload["data"]["id"] == pid and payload["data"]["attributes"]["first_name"] == "Dana"
    assert {"event_time", "idempotency_token", "parent"} <= set(payload["meta"])


def test_delivery_body_is_compact_json(control: SandboxControl, receiver: Receiver) -> None:
    control.subscribe(receiver.url)
    control.add_person(first_name="Compact", last_name="Body")
    control.flush_webhooks()
    body = receiver.received[0]["body"]
    assert body == json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()


def test_destroyed_payload_has_no_attributes(control: SandboxControl, receiver: Receiver) -> None:
    control.subscribe(receiver.url, names=["people.v2.events.person.destroyed"])
    control.delete_person("90000001")
    control.flush_webhooks()
    payload = json.loads(deliveries(receiver)[0]["attributes"]["payload"])
    assert set(payload["data"]) == {"type", "id", "relationships", "links"}
    assert payload["meta"] == {"parent": {"id": "300001", "type": "Organization"}}


def test_api_changes_fire_webhooks_too(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url, names=["people.v2.events.email.created"])
    api.post(
        url + "/people/v2/people/90000001/emails",
        json={"data": {"attributes": {"address": "x@example.org", "location": "Home"}}},
    )
    control.flush_webhooks()
    assert [d["attributes"]["name"] for d in deliveries(receiver)] == [
        "people.v2.events.email.created"
    ]


def test_merge_emits_destroyed_and_person_merger_created(
    control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url)
    control.merge_people("90000001", "90000002")
    control.flush_webhooks()
    names = {d["attributes"]["name"] for d in deliveries(receiver)}
    assert {"people.v2.events.person.destroyed", "people.v2.events.person_merger.created"} <= names
    merger = next(
        d for d in deliveries(receiver) if d["attributes"]["name"].endswith("person_merger.created")
    )
    attributes = json.loads(merger["attributes"]["payload"])["data"]["attributes"]
    assert (attributes["person_to_keep_id"], attributes["person_to_remove_id"]) == (
        90000001,
        90000002,
    )


def test_failed_delivery_is_retried_with_same_uuid_and_next_attempt(
    control: SandboxControl, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    control.subscribe(receiver.url, names=["people.v2.events.person.created"])
    control.add_person(first_name="Retry", last_name="Me")
    control.flush_webhooks()
    first, second = deliveries(receiver)
    assert first["id"] == second["id"]
    assert (first["attributes"]["attempt"], second["attributes"]["attempt"]) == (1, 2)


def test_410_deactivates_the_subscription(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    receiver.statuses = [410]
    control.subscribe(receiver.url, names=["people.v2.events.person.created"])
    control.add_person(first_name="Gone", last_name="Away")
    control.flush_webhooks()
    subscription = api.get(url + "/webhooks/v2/subscriptions").json()["data"][0]
    assert subscription["attributes"]["active"] is False
    control.add_person(first_name="Not", last_name="Sent")
    control.flush_webhooks()
    assert len(receiver.received) == 1


def test_duplicate_chaos_delivers_the_same_event_twice(
    control: SandboxControl, receiver: Receiver
) -> None:
    control.set_webhook_chaos(duplicate_rate=1.0)
    control.subscribe(receiver.url, names=["people.v2.events.person.created"])
    control.add_person(first_name="Double", last_name="Trouble")
    control.flush_webhooks()
    first, second = deliveries(receiver)
    assert first == second


def test_shuffle_chaos_still_delivers_everything(
    control: SandboxControl, receiver: Receiver
) -> None:
    control.set_webhook_chaos(shuffle=True)
    control.subscribe(receiver.url, names=["people.v2.events.person.updated"])
    for n in range(5):
        control.edit_person("90000001", nickname=f"n{n}")
    control.flush_webhooks()
    assert len(receiver.received) == 5


def test_subscription_api_create_and_rotate_secret(api: requests.Session, url: str) -> None:
    body = {
        "data": {
            "type": "Subscription",
            "attributes": {
                "name": "people.v2.events.person.updated",
                "url": "http://127.0.0.1:9/x",
                "active": True,
            },
        }
    }
    created = api.post(url + "/webhooks/v2/subscriptions", json=body)
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["type"] == "Subscription" and len(data["attributes"]["authenticity_secret"]) == 64
    rotated = api.post(data["links"]["self"] + "/rotate_secret").json()["data"]
    assert rotated["attributes"]["authenticity_secret"] != data["attributes"]["authenticity_secret"]


def test_subscription_url_is_not_updatable(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.subscribe("http://127.0.0.1:9/x", names=["people.v2.events.person.updated"])
    sub = api.get(url + "/webhooks/v2/subscriptions").json()["data"][0]
    response = api.patch(
        sub["links"]["self"], json={"data": {"attributes": {"url": "http://127.0.0.1:9/y"}}}
    )
    assert response.status_code == 422


def test_webhook_subscriptions_path_needs_version_2022_10_20(
    api: requests.Session, url: str
) -> None:
    new = {"X-PCO-API-Version": "2022-10-20"}
    assert api.get(url + "/webhooks/v2/webhook_subscriptions").status_code == 404
    response = api.get(url + "/webhooks/v2/webhook_subscriptions", headers=new)
    assert response.status_code == 200
    assert api.get(url + "/webhooks/v2/subscriptions", headers=new).status_code == 404


def test_available_events_lists_person_events(api: requests.Session, url: str) -> None:
    names = [
        e["id"] for e in api.get(url + "/webhooks/v2/available_events?per_page=100").json()["data"]
    ]
    assert (
        "people.v2.events.person.created" in names
        and "groups.v2.events.membership.created" in names
    )


def test_group_membership_changes_fire_groups_events(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url, names=["groups.v2.events.membership.created"])
    pid = control.add_person(first_name="Group", last_name="Joiner")
    api.post(
        url + "/groups/v2/groups/1500001/memberships",
        json={"data": {"attributes": {"person_id": pid}}},
    )
    control.flush_webhooks()
    payload = json.loads(deliveries(receiver)[0]["attributes"]["payload"])
    assert payload["data"]["type"] == "Membership"
    assert payload["data"]["relationships"]["person"]["data"]["id"] == pid


def test_household_membership_fires_household_updated_not_person_updated(
    control: SandboxControl, receiver: Receiver
) -> None:
    pid = control.add_person(first_name="New", last_name="Member")
    household_id = control.add_household(["90000001"], name="Solo")
    control.subscribe(receiver.url)
    control.add_household_member(household_id, pid)
    control.flush_webhooks()
    assert [d["attributes"]["name"] for d in deliveries(receiver)] == [
        "people.v2.events.household.updated"
    ]


def test_delayed_deliveries_still_arrive_by_flush(
    control: SandboxControl, receiver: Receiver
) -> None:
    control.set_webhook_chaos(delay_ms=150)
    control.subscribe(receiver.url, names=["people.v2.events.person.created"])
    control.add_person(first_name="Slow", last_name="Poke")
    assert receiver.received == []
    control.flush_webhooks()
    assert len(receiver.received) == 1


def test_a_delivery_names_the_sandboxs_own_organisation() -> None:
    body = json.loads(delivery_body("e1", "people.v2.events.person.created", 1, "{}", "400002"))
    organization = body["data"][0]["relationships"]["organization"]["data"]
    assert organization == {"type": "Organization", "id": "400002"}
