"""Subscriptions PCO gives up on, and subscriptions an admin changes in PCO's UI."""

from __future__ import annotations

import json

import requests

from flask_pco.sandbox import SandboxControl, sign_body
from flask_pco.sandbox.webhooks import PCO_RETRIES

from .conftest import Receiver

NAME = "people.v2.events.person.created"


def subscription(api: requests.Session, url: str) -> dict:
    return api.get(url + "/webhooks/v2/subscriptions").json()["data"][0]["attributes"]


def test_sixteen_failed_retries_deactivate_the_subscription(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    receiver.statuses = [500] * (1 + PCO_RETRIES)
    control.subscribe(receiver.url, names=[NAME])
    control.add_person(first_name="Never", last_name="Answered")

    control.flush_webhooks()

    attempts = [
        json.loads(i["body"])["data"][0]["attributes"]["attempt"] for i in receiver.received
    ]
    assert attempts == list(range(1, 2 + PCO_RETRIES))
    assert subscription(api, url)["active"] is False


def test_a_delivery_that_succeeds_on_its_last_retry_keeps_the_subscription(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    receiver.statuses = [500] * PCO_RETRIES  # the 16th retry is answered 200
    control.subscribe(receiver.url, names=[NAME])
    control.add_person(first_name="Late", last_name="Answer")

    control.flush_webhooks()

    assert len(receiver.received) == 1 + PCO_RETRIES
    assert subscription(api, url)["active"] is True


def test_a_deactivated_subscription_sends_nothing_more(
    control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url, names=[NAME])
    [sid] = [s["id"] for s in control.state()["records"]["Subscription"]]

    control.edit_subscription(sid, active=False)
    control.add_person(first_name="Not", last_name="Sent")
    control.flush_webhooks()

    assert receiver.received == []


def test_a_secret_changed_in_pco_signs_the_next_delivery(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    old = control.subscribe(receiver.url, names=[NAME])
    [sid] = [s["id"] for s in control.state()["records"]["Subscription"]]

    control.edit_subscription(sid, authenticity_secret=None)
    control.add_person(first_name="New", last_name="Secret")
    control.flush_webhooks()

    new = subscription(api, url)["authenticity_secret"]
    [item] = receiver.received
    assert new != old and len(new) == 64
    assert item["headers"]["X-Pco-Webhooks-Authenticity"] == sign_body(item["body"], new)


def test_a_subscription_deleted_in_pco_is_gone_from_the_api(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url, names=[NAME])
    [sid] = [s["id"] for s in control.state()["records"]["Subscription"]]

    control.delete_subscription(sid)

    assert api.get(url + "/webhooks/v2/subscriptions").json()["data"] == []


def test_error_methods_fail_writes_while_reads_work(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(error_rate=1.0, error_methods=("PATCH", "POST"))

    read = api.get(url + "/people/v2/people")
    write = api.post(
        url + "/people/v2/people",
        json={"data": {"type": "Person", "attributes": {"first_name": "X", "last_name": "Y"}}},
    )

    assert (read.status_code, write.status_code) == (200, 500)
