"""Groups membership events: the sandbox sends them for every membership change, shaped as
PCO's (REFERENCE §6.2-6.3: created/updated carry the resource and ``meta.event_time``; a
destroy carries no attributes and ``meta`` holds only ``parent``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from flask_pco.sandbox import SandboxControl

from .conftest import Receiver

NAMES = [f"groups.v2.events.membership.{a}" for a in ("created", "updated", "destroyed")]


def events(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    items = [json.loads(item["body"])["data"][0]["attributes"] for item in receiver.received]
    return [(item["name"], json.loads(item["payload"])) for item in items]


@pytest.fixture
def joined(control: SandboxControl, receiver: Receiver) -> tuple[str, str]:
    """A person who joined group 1500001 "in PCO", with the site subscribed to membership events:
    (person id, membership id)."""
    control.subscribe(receiver.url, names=NAMES)
    person_id = control.add_person(first_name="Group", last_name="Joiner")
    return person_id, control.add_group_membership("1500001", person_id, role="leader")


def test_joining_a_group_sends_membership_created_with_the_resource(
    control: SandboxControl, receiver: Receiver, joined: tuple[str, str]
) -> None:
    person_id, membership_id = joined
    control.flush_webhooks()
    ((name, payload),) = events(receiver)
    data = payload["data"]
    assert (name, data["type"], data["id"]) == (NAMES[0], "Membership", membership_id)
    assert data["attributes"]["role"] == "leader" and data["attributes"]["joined_at"]
    assert data["relationships"]["group"]["data"] == {"type": "Group", "id": "1500001"}
    assert data["relationships"]["person"]["data"] == {"type": "Person", "id": person_id}
    assert {"event_time", "idempotency_token", "parent"} <= set(payload["meta"])


def test_a_role_change_sends_membership_updated(
    control: SandboxControl, receiver: Receiver, joined: tuple[str, str]
) -> None:
    control.edit_group_membership(joined[1], role="member")
    control.flush_webhooks()
    name, payload = events(receiver)[-1]
    assert (name, payload["data"]["attributes"]["role"]) == (NAMES[1], "member")


def test_leaving_a_group_sends_membership_destroyed_without_attributes(
    control: SandboxControl, receiver: Receiver, joined: tuple[str, str]
) -> None:
    control.delete("group_memberships", joined[1])
    control.flush_webhooks()
    name, payload = events(receiver)[-1]
    assert (name, payload["data"]["id"]) == (NAMES[2], joined[1])
    assert "attributes" not in payload["data"] and set(payload["meta"]) == {"parent"}
    assert payload["data"]["relationships"]["group"]["data"]["id"] == "1500001"


def test_a_person_can_join_a_group_once(
    control: SandboxControl, joined: tuple[str, str], url: str
) -> None:
    again = requests.post(
        f"{url}/_sandbox/groups/1500001/memberships", json={"person_id": joined[0]}, timeout=10
    )
    assert again.status_code == 422


def test_the_sandbox_command_subscribes_a_site_to_every_event_flask_pco_applies() -> None:
    from flask_pco.sandbox.webhooks import SITE_EVENT_NAMES
    from flask_pco.sync.webhooks.subscriptions import WANTED_EVENTS

    assert sorted(SITE_EVENT_NAMES) == sorted(WANTED_EVENTS)
