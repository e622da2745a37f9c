"""Writes exactly where PCO allows them, with PCO's status codes and error bodies."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from flask_pco.sandbox import SandboxControl


def post(
    api: requests.Session, url: str, path: str, kind: str, attributes: dict[str, Any], **extra: Any
) -> requests.Response:
    return api.post(url + path, json={"data": {"type": kind, "attributes": attributes, **extra}})


def patch(
    api: requests.Session, url: str, path: str, kind: str, attributes: dict[str, Any]
) -> requests.Response:
    return api.patch(url + path, json={"data": {"type": kind, "attributes": attributes}})


def add_phone(api: requests.Session, url: str, attributes: dict[str, Any]) -> requests.Response:
    """POST a phone number for the first generated person."""
    return post(api, url, "/people/v2/people/90000001/phone_numbers", "PhoneNumber", attributes)


def test_person_create_is_201_with_the_full_resource(api: requests.Session, url: str) -> None:
    response = post(
        api,
        url,
        "/people/v2/people",
        "Person",
        {"first_name": "Dana", "last_name": "Newcomer", "remote_id": 77001},
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert (
        data["attributes"]["name"] == "Dana Newcomer" and data["attributes"]["remote_id"] == 77001
    )
    assert api.get(data["links"]["self"]).status_code == 200


def test_person_patch_is_200_and_bumps_updated_at(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(first_name="Old", last_name="Name", updated_at="2020-01-01T00:00:00Z")
    response = patch(api, url, f"/people/v2/people/{pid}", "Person", {"first_name": "New"})
    assert response.status_code == 200
    attributes = response.json()["data"]["attributes"]
    assert attributes["first_name"] == "New" and attributes["updated_at"] > "2020-01-01T00:00:00Z"


def test_delete_is_204_empty_then_get_is_404(api: requests.Session, url: str) -> None:
    response = api.delete(url + "/people/v2/people/90000001")
    assert (response.status_code, response.content) == (204, b"")
    assert api.get(url + "/people/v2/people/90000001").status_code == 404


def test_non_assignable_attribute_is_422_forbidden_attribute(
    api: requests.Session, url: str
) -> None:
    response = post(api, url, "/people/v2/people", "Person", {"first_name": "A", "name": "A B"})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {"status": "422", "title": "Forbidden Attribute", "detail": "name cannot be assigned"}
        ]
    }


def test_body_without_data_is_400_invalid_resource_payload(api: requests.Session, url: str) -> None:
    response = api.post(url + "/people/v2/people", json={"first_name": "A"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_resource_payload"


def test_array_data_is_400_invalid_resource_payload(api: requests.Session, url: str) -> None:
    response = api.post(
        url + "/people/v2/people", json={"data": [{"type": "Person", "attributes": {}}]}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_resource_payload"


def test_blank_first_name_is_422_validation_error(api: requests.Session, url: str) -> None:
    response = patch(api, url, "/people/v2/people/90000001", "Person", {"first_name": " "})
    error = response.json()["errors"][0]
    assert response.status_code == 422
    assert (error["title"], error["source"], error["meta"]["resource"]) == (
        "Validation Error",
        {"parameter": "first_name"},
        "Person",
    )


def test_non_integer_remote_id_is_422(api: requests.Session, url: str) -> None:
    response = patch(api, url, "/people/v2/people/90000001", "Person", {"remote_id": "abc"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": "remote_id"}


def test_remote_id_is_queryable(api: requests.Session, url: str) -> None:
    patch(api, url, "/people/v2/people/90000002", "Person", {"remote_id": 4242})
    body = api.get(url + "/people/v2/people?where[remote_id]=4242").json()
    assert [p["id"] for p in body["data"]] == ["90000002"]


def test_status_inactive_stamps_inactivated_at(api: requests.Session, url: str) -> None:
    attributes = patch(
        api, url, "/people/v2/people/90000001", "Person", {"status": "inactive"}
    ).json()["data"]["attributes"]
    assert attributes["status"] == "inactive" and attributes["inactivated_at"]


def test_email_create_under_person(api: requests.Session, url: str) -> None:
    response = post(
        api,
        url,
        "/people/v2/people/90000001/emails",
        "Email",
        {"address": "new@example.org", "location": "Home"},
    )
    assert response.status_code == 201
    assert response.json()["data"]["relationships"]["person"]["data"]["id"] == "90000001"


def test_malformed_email_address_is_422(api: requests.Session, url: str) -> None:
    response = post(
        api,
        url,
        "/people/v2/people/90000001/emails",
        "Email",
        {"address": "not-an-email", "location": "Home"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": "address"}


def test_phone_number_without_location_is_422(api: requests.Session, url: str) -> None:
    response = add_phone(api, url, {"number": "555-010-7788"})
    error = response.json()["errors"][0]
    assert response.status_code == 422
    assert (error["detail"], error["source"], error["meta"]["resource"]) == (
        "can't be blank",
        {"parameter": "location"},
        "PhoneNumber",
    )


def test_phone_number_keeps_typed_number_and_derives_e164(api: requests.Session, url: str) -> None:
    response = add_phone(api, url, {"number": "555-010-7788", "location": "Mobile"})
    attributes = response.json()["data"]["attributes"]
    assert attributes["number"] == "555-010-7788"
    assert (
        attributes["e164"],
        attributes["national"],
        attributes["international"],
        attributes["country_code"],
    ) == (
        "+15550107788",
        "(555) 010-7788",
        "+1 555-010-7788",
        "US",
    )


def test_phone_number_patch_and_delete_work_at_both_paths(api: requests.Session, url: str) -> None:
    created = add_phone(api, url, {"number": "3125550100", "location": "Home"})
    phone_id = created.json()["data"]["id"]
    nested = f"/people/v2/people/90000001/phone_numbers/{phone_id}"
    assert patch(api, url, nested, "PhoneNumber", {"location": "Work"}).status_code == 200
    assert api.delete(url + f"/people/v2/phone_numbers/{phone_id}").status_code == 204
    assert api.get(url + nested).status_code == 404


def test_address_patch_via_top_level_path(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(
        first_name="A", last_name="B", addresses=[{"street_line_1": "1 Main St", "city": "X"}]
    )
    address_id = api.get(url + f"/people/v2/people/{pid}/addresses").json()["data"][0]["id"]
    response = patch(
        api, url, f"/people/v2/addresses/{address_id}", "Address", {"city": "Springfield"}
    )
    assert response.json()["data"]["attributes"]["city"] == "Springfield"


def test_household_create_takes_people_and_primary_contact(api: requests.Session, url: str) -> None:
    relationships = {
        "people": {
            "data": [{"type": "Person", "id": "90000001"}, {"type": "Person", "id": "90000002"}]
        },
        "primary_contact": {"data": {"type": "Person", "id": "90000001"}},
    }
    response = post(
        api,
        url,
        "/people/v2/households",
        "Household",
        {"name": "Newcomer Household"},
        relationships=relationships,
    )
    attributes = response.json()["data"]["attributes"]
    assert response.status_code == 201
    assert (attributes["member_count"], attributes["primary_contact_id"]) == (2, "90000001")


def test_household_create_with_unknown_person_is_422_related_not_found(
    api: requests.Session, url: str
) -> None:
    relationships = {
        "people": {"data": [{"type": "Person", "id": "1"}]},
        "primary_contact": {"data": {"type": "Person", "id": "1"}},
    }
    response = post(
        api, url, "/people/v2/households", "Household", {"name": "X"}, relationships=relationships
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "attribute_resource_not_found"


def test_household_membership_does_not_bump_the_persons_updated_at(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(
        first_name="Solo", last_name="Person", updated_at="2020-01-01T00:00:00Z"
    )
    household = api.get(url + "/people/v2/households?per_page=1").json()["data"][0]
    relationships = {"person": {"data": {"type": "Person", "id": pid}}}
    path = f"/people/v2/households/{household['id']}/household_memberships"
    response = post(
        api, url, path, "HouseholdMembership", {"pending": False}, relationships=relationships
    )
    assert response.status_code == 201
    person = api.get(url + f"/people/v2/people/{pid}").json()["data"]["attributes"]
    assert person["updated_at"] == "2020-01-01T00:00:00Z"
    refreshed = api.get(url + f"/people/v2/households/{household['id']}").json()["data"][
        "attributes"
    ]
    assert refreshed["updated_at"] > household["attributes"]["updated_at"]
    membership_id = response.json()["data"]["id"]
    assert api.delete(url + f"{path}/{membership_id}").status_code == 204


def _group_membership(
    api: requests.Session, url: str, control: SandboxControl
) -> requests.Response:
    pid = control.add_person(first_name="New", last_name="Member")
    return post(
        api,
        url,
        "/groups/v2/groups/1500001/memberships",
        "Membership",
        {"person_id": pid, "role": "member"},
    )


def test_group_membership_create_is_201(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    created = _group_membership(api, url, control)
    assert created.status_code == 201
    assert created.json()["data"]["attributes"]["role"] == "member"


def test_group_membership_role_can_be_patched(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    path = _group_membership(api, url, control).json()["data"]["links"]["self"]
    response = api.patch(path, json={"data": {"attributes": {"role": "leader"}}})
    assert response.json()["data"]["attributes"]["role"] == "leader"


def test_group_membership_can_be_deleted(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    path = _group_membership(api, url, control).json()["data"]["links"]["self"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_duplicate_group_membership_is_422(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(first_name="Twice", last_name="Joined")
    path = "/groups/v2/groups/1500001/memberships"
    post(api, url, path, "Membership", {"person_id": pid})
    response = post(api, url, path, "Membership", {"person_id": pid})
    assert response.status_code == 422


def test_group_membership_for_unknown_person_is_422_related_not_found(
    api: requests.Session, url: str
) -> None:
    response = post(
        api, url, "/groups/v2/groups/1500001/memberships", "Membership", {"person_id": "1"}
    )
    assert response.json()["errors"][0] == {
        "status": "422", "title": "Attribute Resource Not Found", "code": "attribute_resource_not_found",
        "detail": "Error setting person_id. The underlying resource couldn't be found.", "source": {"parameter": "person_id"},
    }  # fmt: skip


def test_groups_are_read_only_and_writes_are_404(api: requests.Session, url: str) -> None:
    assert post(api, url, "/groups/v2/groups", "Group", {"name": "X"}).status_code == 404
    assert api.delete(url + "/groups/v2/groups/1500001").status_code == 404


def test_check_ins_and_calendar_refuse_writes(api: requests.Session, url: str) -> None:
    assert post(api, url, "/check-ins/v2/check_ins", "CheckIn", {}).status_code == 404
    assert post(api, url, "/calendar/v2/events", "Event", {"name": "X"}).status_code == 404


def test_put_is_not_supported(api: requests.Session, url: str) -> None:
    assert api.put(url + "/people/v2/people/90000001", json={}).status_code == 404


def test_updated_at_moves_forward_on_each_change(api: requests.Session, url: str) -> None:
    first = patch(api, url, "/people/v2/people/90000003", "Person", {"nickname": "A"}).json()[
        "data"
    ]["attributes"]["updated_at"]
    time.sleep(1.05)
    second = patch(api, url, "/people/v2/people/90000003", "Person", {"nickname": "B"}).json()[
        "data"
    ]["attributes"]["updated_at"]
    assert second > first


def test_household_create_without_primary_contact_is_422(api: requests.Session, url: str) -> None:
    relationships = {"people": {"data": [{"type": "Person", "id": "90000001"}]}}
    response = post(
        api, url, "/people/v2/households", "Household", {"name": "X"}, relationships=relationships
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": "primary_contact"}


@pytest.mark.parametrize("change", ["create", "edit", "delete"])
def test_a_contact_change_bumps_its_persons_updated_at_as_pco_does(
    api: requests.Session, url: str, control: SandboxControl, change: str
) -> None:
    old = "2020-01-01T00:00:00Z"
    pid = control.add_person(first_name="C", last_name="D", emails=["c@x.org"], updated_at=old)
    person_url = url + f"/people/v2/people/{pid}"
    assert api.get(person_url).json()["data"]["attributes"]["updated_at"] == old
    email_id = api.get(person_url + "/emails").json()["data"][0]["id"]
    if change == "create":
        post(api, url, f"/people/v2/people/{pid}/emails", "Email", {"address": "e@x.org"})
    elif change == "edit":
        patch(api, url, f"/people/v2/emails/{email_id}", "Email", {"address": "d@x.org"})
    else:
        api.delete(url + f"/people/v2/emails/{email_id}")
    assert api.get(person_url).json()["data"]["attributes"]["updated_at"] > old
