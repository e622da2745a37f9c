"""The control surface, the in-process server, the generator and the CLI command."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from click.testing import CliRunner

from flask_pco.sandbox import SandboxControl, SandboxServer, create_sandbox_app
from flask_pco.sandbox.cli import sandbox_command
from flask_pco.sandbox.generator import generate
from flask_pco.sandbox.registry import index_columns
from flask_pco.sandbox.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def generated(seed: int, people: int = 60) -> dict[str, dict[str, dict[str, object]]]:
    store = Store(index_columns())
    generate(store, people, seed, NOW)
    return store.tables


def test_generator_is_deterministic_for_a_seed() -> None:
    assert generated(5) == generated(5)
    assert generated(5) != generated(6)


def test_generator_makes_the_awkward_cases() -> None:
    tables = generated(3, people=400)
    people = tables["Person"].values()
    in_households = {m["person_id"] for m in tables["HouseholdMembership"].values()}
    assert any(p["status"] == "inactive" and p["inactivated_at"] for p in people)
    assert any(p["child"] for p in people)
    assert any(p["id"] not in in_households for p in people)
    assert any(not p["first_name"].isascii() or not p["last_name"].isascii() for p in people)
    keys = [(p["first_name"], p["last_name"], p["birthdate"]) for p in people]
    assert len(keys) > len(set(keys))


def test_generated_updated_at_is_in_the_past() -> None:
    stamps = [p["updated_at"] for p in generated(2)["Person"].values()]
    assert max(stamps) <= "2026-01-01T00:00:00Z"


def test_reset_regenerates_with_count_and_seed(control: SandboxControl) -> None:
    assert control.reset(people=7, seed=4)["counts"]["Person"] == 7
    first = control.state()["records"]["Person"][0]["first_name"]
    control.reset(people=7, seed=4)
    assert control.state()["records"]["Person"][0]["first_name"] == first


def test_scenario_loads_explicit_records(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    result = control.load_scenario({
        "people": [{"first_name": "Ann", "last_name": "One", "emails": ["ann@example.org"]},
                   {"first_name": "Bob", "last_name": "One", "phone_numbers": ["(312) 555-0101"]}],
        "households": [{"name": "One Household", "people": [0, 1], "primary_contact": 0}],
    })  # fmt: skip
    assert len(result["people"]) == 2
    assert control.state(records=False)["counts"]["Person"] == 2
    household = api.get(url + f"/people/v2/households/{result['households'][0]}").json()["data"]
    assert household["attributes"]["primary_contact_id"] == result["people"][0]


def test_control_edit_bumps_updated_at(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(
        first_name="Before", last_name="Edit", updated_at="2020-01-01T00:00:00Z"
    )
    control.edit_person(pid, first_name="After")
    attributes = api.get(url + f"/people/v2/people/{pid}").json()["data"]["attributes"]
    assert attributes["first_name"] == "After" and attributes["updated_at"] > "2020-01-01T00:00:00Z"


def test_control_merge_creates_person_merger_and_removes_the_duplicate(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.merge_people("90000001", "90000002")
    assert api.get(url + "/people/v2/people/90000002").status_code == 404
    merger = api.get(url + "/people/v2/person_mergers").json()["data"][0]["attributes"]
    assert (merger["person_to_keep_id"], merger["person_to_remove_id"]) == (90000001, 90000002)


def test_person_mergers_are_listed_by_created_at_as_a_pull_polls_them(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_clock("2026-02-01T09:00:00Z")
    control.merge_people("90000001", "90000002")
    control.set_clock(None)
    listing = url + "/people/v2/person_mergers?order=created_at&where[created_at][gte]="

    before = api.get(listing + "2026-02-01T08:59:00Z").json()["data"]
    after = api.get(listing + "2026-02-01T09:00:01Z").json()["data"]

    assert [m["attributes"]["created_at"] for m in before] == ["2026-02-01T09:00:00Z"]
    assert after == []


def _contact_ids(api: requests.Session, url: str, control: SandboxControl) -> tuple[str, str, str]:
    pid = control.add_person(
        first_name="C", last_name="D", emails=["c@example.org"], phone_numbers=["3125550123"]
    )
    email_id = api.get(url + f"/people/v2/people/{pid}/emails").json()["data"][0]["id"]
    phone_id = api.get(url + f"/people/v2/people/{pid}/phone_numbers").json()["data"][0]["id"]
    return pid, email_id, phone_id


def test_control_edits_an_email(api: requests.Session, url: str, control: SandboxControl) -> None:
    _, email_id, _ = _contact_ids(api, url, control)
    control.edit_email(email_id, address="c2@example.org")
    assert (
        api.get(url + f"/people/v2/emails/{email_id}").json()["data"]["attributes"]["address"]
        == "c2@example.org"
    )


def test_control_edits_a_phone_number_and_rederives_e164(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    _, _, phone_id = _contact_ids(api, url, control)
    control.edit_phone_number(phone_id, number="312-555-0124")
    assert (
        api.get(url + f"/people/v2/phone_numbers/{phone_id}").json()["data"]["attributes"]["e164"]
        == "+13125550124"
    )


def test_control_edits_a_household(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    household_id = control.add_household(["90000001"], name="D Household")
    control.edit_household(household_id, name="Renamed")
    assert (
        api.get(url + f"/people/v2/households/{household_id}").json()["data"]["attributes"]["name"]
        == "Renamed"
    )


def test_control_edits_a_group_membership(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    membership = api.get(url + "/groups/v2/groups/1500001/memberships?where[role]=member").json()[
        "data"
    ][0]
    control.edit_group_membership(membership["id"], role="leader")
    refreshed = api.get(membership["links"]["self"]).json()["data"]["attributes"]
    assert refreshed["role"] == "leader"


def test_state_dump_has_counts_and_records(control: SandboxControl) -> None:
    state = control.state()
    assert state["counts"]["Person"] == len(state["records"]["Person"]) == 20


def test_server_shuts_down_cleanly_and_frees_its_port() -> None:
    server = SandboxServer(create_sandbox_app(people=2)).start()
    url = server.url
    with SandboxControl(url) as control:
        assert control.state(records=False)["counts"]["Person"] == 2
    server.stop()
    try:
        requests.get(url + "/_sandbox/state", timeout=1)
    except requests.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError("server still answering")


def test_wsgi_app_factory_works_without_a_server() -> None:
    client = create_sandbox_app(people=3).test_client()
    response = client.get(
        "/people/v2/people", headers={"Authorization": "Basic c2FuZGJveDpzYW5kYm94LXNlY3JldA=="}
    )
    assert response.status_code == 200 and response.json["meta"]["total_count"] == 3


def test_cli_command_documents_its_options() -> None:
    result = CliRunner().invoke(sandbox_command, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--port",
        "--people",
        "--seed",
        "--app-id",
        "--secret",
        "--rate-limit",
        "--webhook-url",
    ):
        assert option in result.output


def test_generated_parents_are_older_than_their_children() -> None:
    tables = generated(4, people=300)
    by_household: dict[str, list[dict[str, object]]] = {}
    for membership in tables["HouseholdMembership"].values():
        person = tables["Person"][str(membership["person_id"])]
        by_household.setdefault(str(membership["household_id"]), []).append(person)
    for members in by_household.values():
        children = [str(p["birthdate"]) for p in members if p["child"]]
        adults = [str(p["birthdate"]) for p in members if not p["child"]]
        if children:
            assert max(adults) < min(children)


def test_cli_command_serves_the_sandbox(tmp_path: object) -> None:
    import subprocess
    import sys

    script = "from flask_pco.sandbox.cli import sandbox_command; sandbox_command()"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", "0", "--people", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[3]
        with SandboxControl(url) as control:
            assert control.state(records=False)["counts"]["Person"] == 3
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_public_interface_is_pinned() -> None:
    import inspect

    import flask_pco.sandbox as sandbox

    assert sorted(sandbox.__all__) == [
        "SandboxControl",
        "SandboxServer",
        "create_sandbox_app",
        "sign_body",
    ]
    parameters = inspect.signature(create_sandbox_app).parameters
    for name in ("people", "seed", "app_id", "secret", "rate_limit", "rate_period", "organization_name",
                 "bearer_tokens", "webhook_retry_delays", "base_url"):  # fmt: skip
        assert name in parameters
    for method in ("reset", "edit_person", "delete_person", "merge_people", "add_person", "edit_household",
                   "state", "requests", "clear_requests", "set_rate_limit", "set_faults", "subscribe",
                   "flush_webhooks", "set_webhook_chaos"):  # fmt: skip
        assert callable(getattr(SandboxControl, method))


def test_a_set_clock_stamps_every_change_with_one_time_until_released(sandbox_server) -> None:
    control = sandbox_server.control
    control.reset(people=0)
    person = control.add_person(first_name="Ann", last_name="Lee")
    control.set_clock("2099-01-01T00:00:00Z")

    control.edit_person(person, last_name="One")
    first = control.state()["records"]["Person"][0]["updated_at"]
    control.edit_person(person, last_name="Two")
    second = control.state()["records"]["Person"][0]["updated_at"]
    control.set_clock(None)
    control.edit_person(person, last_name="Three")

    assert first == second == "2099-01-01T00:00:00Z"
    assert control.state()["records"]["Person"][0]["updated_at"] != first


def test_a_bad_clock_time_is_refused(sandbox_server) -> None:
    with pytest.raises(requests.HTTPError):
        sandbox_server.control.set_clock("soon")
