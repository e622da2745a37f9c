"""Custom fields as PCO serves them: definitions with options, field data included with people,
and FieldDatum writes checked against the field's data type (REFERENCE §5.7)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from flask_pco.sandbox import SandboxControl


def definitions(api: requests.Session, url: str) -> dict[str, dict[str, Any]]:
    """The organisation's field definitions by name, with their included options."""
    body = api.get(url + "/people/v2/field_definitions", params={"include": "field_options"}).json()
    options = {o["id"]: o["attributes"]["value"] for o in body["included"]}
    found = {}
    for resource in body["data"]:
        refs = resource["relationships"]["field_options"]["data"]
        found[resource["attributes"]["name"]] = {
            "id": resource["id"],
            "data_type": resource["attributes"]["data_type"],
            "options": [options[r["id"]] for r in refs],
        }
    return found


def write_datum(
    api: requests.Session, url: str, person_id: str, definition_id: str, value: Any
) -> requests.Response:
    attributes = {"field_definition_id": definition_id, "value": value}
    return api.post(
        f"{url}/people/v2/people/{person_id}/field_data",
        json={"data": {"type": "FieldDatum", "attributes": attributes}},
    )


def test_definitions_cover_every_type_the_sync_maps(api: requests.Session, url: str) -> None:
    found = definitions(api, url)
    types = {d["data_type"] for d in found.values()}
    assert types == {"text", "number", "date", "boolean", "select", "checkboxes"}
    assert found["T-shirt size"]["options"] == ["S", "M", "L", "XL"]


def test_people_listing_includes_their_field_data_with_its_definition(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    person = control.add_person(
        first_name="Ada", custom_fields={"T-shirt size": "L", "Small group interest": ["Prayer"]}
    )
    body = api.get(
        f"{url}/people/v2/people", params={"include": "field_data", "where[id]": person}
    ).json()
    refs = body["data"][0]["relationships"]["field_data"]["data"]
    assert len(refs) == 2
    data = {d["id"]: d for d in body["included"] if d["type"] == "FieldDatum"}
    shirt = next(d for d in data.values() if d["attributes"]["value"] == "L")
    assert shirt["relationships"]["field_definition"]["data"]["type"] == "FieldDefinition"
    assert shirt["relationships"]["customizable"]["data"] == {"type": "Person", "id": person}


def test_a_valid_datum_is_created_with_its_option(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    person = control.add_person(first_name="Ada")
    shirt = definitions(api, url)["T-shirt size"]
    response = write_datum(api, url, person, shirt["id"], "M")
    assert response.status_code == 201
    created = response.json()["data"]
    assert created["attributes"]["value"] == "M"
    assert created["relationships"]["field_option"]["data"]["type"] == "FieldOption"


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("T-shirt size", "XXXL", "is not included in the list"),
        ("Small group interest", "Knitting", "is not included in the list"),
        ("Years attending", "many", "is not a number"),
        ("Baptism date", "31/12/2001", "is not a valid date"),
        ("Background check", "yes", "is not a boolean"),
    ],
)
def test_a_value_the_definition_does_not_allow_is_422(
    api: requests.Session, url: str, control: SandboxControl, field: str, value: str, detail: str
) -> None:
    person = control.add_person(first_name="Ada")
    response = write_datum(api, url, person, definitions(api, url)[field]["id"], value)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["detail"], error["source"]["parameter"]) == (detail, "value")
    assert api.get(f"{url}/people/v2/people/{person}/field_data").json()["data"] == []


def test_an_unknown_definition_is_attribute_resource_not_found(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    person = control.add_person(first_name="Ada")
    response = write_datum(api, url, person, "999", "x")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "attribute_resource_not_found"


def test_each_checked_box_is_its_own_datum_and_twice_is_refused(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    person = control.add_person(first_name="Ada")
    interest = definitions(api, url)["Small group interest"]["id"]
    assert write_datum(api, url, person, interest, "Prayer").status_code == 201
    assert write_datum(api, url, person, interest, "Youth").status_code == 201
    assert write_datum(api, url, person, interest, "Youth").status_code == 422


def test_patch_checks_the_new_value_and_moves_the_persons_updated_at(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    person = control.add_person(first_name="Ada")
    [datum] = control.set_field(person, "Years attending", "3")
    before = api.get(f"{url}/people/v2/people/{person}").json()["data"]["attributes"]
    path = f"{url}/people/v2/field_data/{datum}"
    bad = api.patch(path, json={"data": {"type": "FieldDatum", "attributes": {"value": "x"}}})
    assert bad.status_code == 422
    control.set_clock("2030-01-01T00:00:00Z")
    try:
        good = api.patch(path, json={"data": {"type": "FieldDatum", "attributes": {"value": "4"}}})
    finally:
        control.set_clock(None)
    assert good.json()["data"]["attributes"]["value"] == "4"
    after = api.get(f"{url}/people/v2/people/{person}").json()["data"]["attributes"]
    assert after["updated_at"] > before["updated_at"]
