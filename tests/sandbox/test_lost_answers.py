"""Lost answers: a write PCO carried out and committed, whose answer a gateway replaced by a 504."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from flask_pco.sandbox import SandboxControl

from .conftest import Receiver

PEOPLE = "/people/v2/people"
FIRST_PERSON = f"{PEOPLE}/90000001"


def new_person(api: requests.Session, url: str, **extra: Any) -> requests.Response:
    body = {"data": {"type": "Person", "attributes": {"first_name": "Lost", "last_name": "Answer"}}}
    return api.post(url + PEOPLE, json=body, **extra)


def people_named(control: SandboxControl, last_name: str) -> list[dict[str, Any]]:
    return [p for p in control.state()["records"]["Person"] if p["last_name"] == last_name]


def test_lost_create_answers_504_from_the_gateway(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    response = new_person(api, url)
    assert response.status_code == 504
    assert response.headers["Content-Type"].startswith("text/html")
    assert "X-PCO-API-Request-Rate-Limit" not in response.headers  # PCO's answer never got out


def test_lost_create_is_stored_all_the_same(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    new_person(api, url)
    assert len(people_named(control, "Answer")) == 1


def test_lost_patch_is_applied(api: requests.Session, url: str, control: SandboxControl) -> None:
    control.set_faults(lost_answer_rate=1.0)
    body = {"data": {"type": "Person", "id": "90000001", "attributes": {"last_name": "Patched"}}}
    assert api.patch(url + FIRST_PERSON, json=body).status_code == 504
    assert [p["id"] for p in people_named(control, "Patched")] == ["90000001"]


def test_lost_delete_is_carried_out(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    assert api.delete(url + FIRST_PERSON).status_code == 504
    control.set_faults()
    assert api.get(url + FIRST_PERSON).status_code == 404


def test_lost_create_still_sends_its_webhook(
    api: requests.Session, url: str, control: SandboxControl, receiver: Receiver
) -> None:
    control.subscribe(receiver.url, names=["people.v2.events.person.created"])
    control.set_faults(lost_answer_rate=1.0)
    new_person(api, url)
    control.flush_webhooks()
    [delivery] = [json.loads(item["body"])["data"][0] for item in receiver.received]
    payload = json.loads(delivery["attributes"]["payload"])
    assert payload["data"]["attributes"]["last_name"] == "Answer"


def test_reads_never_lose_their_answer(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    assert api.get(url + PEOPLE).status_code == 200


def test_a_refused_write_keeps_its_answer(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    body = {"data": {"type": "Person", "attributes": {"first_name": "A", "name": "A B"}}}
    assert api.post(url + PEOPLE, json=body).status_code == 422  # nothing committed, nothing lost


def test_request_log_shows_what_pco_answered_before_it_was_lost(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    control.clear_requests()
    new_person(api, url)
    [entry] = control.requests()
    assert (entry["method"], entry["status"], entry["lost_status"]) == ("POST", 504, 201)


def test_a_gateway_slower_than_the_client_ends_in_a_client_timeout(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(lost_answer_rate=1.0, lost_answer_seconds=0.5)
    control.clear_requests()
    with pytest.raises(requests.exceptions.Timeout):
        new_person(api, url, timeout=0.2)
    assert len(people_named(control, "Answer")) == 1  # stored before the gateway gave up
    deadline = time.monotonic() + 5
    while not control.requests() and time.monotonic() < deadline:
        time.sleep(0.05)  # let the held request finish so it cannot count in a later test


def test_the_same_seed_loses_the_same_answers(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    def statuses() -> list[int]:
        control.set_faults(lost_answer_rate=0.5, seed=7)
        return [new_person(api, url).status_code for _ in range(12)]

    first = statuses()
    assert first == statuses()
    assert {201, 504} == set(first)


def test_faults_settings_echo_the_lost_answer_switches(control: SandboxControl) -> None:
    settings = control.set_faults(lost_answer_rate=0.25, lost_answer_seconds=1.5)
    assert (settings["lost_answer_rate"], settings["lost_answer_seconds"]) == (0.25, 1.5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"lost_answer_rate": 1.5}, "lost_answer_rate must be between 0 and 1"),
        ({"lost_answer_seconds": -1}, "lost_answer_seconds must be 0 or more"),
        ({"lost_answer_rate": 0, "error_rate": "often"}, "error_rate must be a number"),
        ({"lost_answer_rate": 0, "seed": "x"}, "seed must be an integer"),
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(
    api: requests.Session,
    url: str,
    control: SandboxControl,
    body: dict[str, Any],
    message: str,
) -> None:
    control.set_faults(lost_answer_rate=1.0)
    response = requests.post(url + "/_sandbox/faults", json=body, timeout=5)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert new_person(api, url).status_code == 504  # the switches in force before still are
