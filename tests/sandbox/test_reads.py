"""JSON:API reads as PCO renders them: envelopes, paging, include, where, order, versions."""

from __future__ import annotations

import base64
from typing import Any

import requests

from flask_pco.sandbox import SandboxControl, create_sandbox_app

VND = "application/vnd.api+json; charset=utf-8"


def get(api: requests.Session, url: str, path: str, **headers: str) -> dict[str, Any]:
    response = api.get(url + path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_person_show_has_pco_envelope(api: requests.Session, url: str) -> None:
    response = api.get(url + "/people/v2/people/90000001")
    body = response.json()
    assert response.headers["Content-Type"] == VND
    assert set(body) == {"data", "included", "meta"}
    assert body["data"]["id"] == "90000001" and body["data"]["type"] == "Person"
    assert body["included"] == []
    assert body["meta"]["parent"] == {"id": "300001", "type": "Organization"}
    assert "emails" in body["meta"]["can_include"]


def test_resource_links_use_the_servers_real_base_url(api: requests.Session, url: str) -> None:
    data = get(api, url, "/people/v2/people/90000001")["data"]
    assert data["links"]["self"] == f"{url}/people/v2/people/90000001"
    assert data["links"]["emails"] == f"{url}/people/v2/people/90000001/emails"


def test_datetimes_are_rendered_in_utc_with_z(api: requests.Session, url: str) -> None:
    attributes = get(api, url, "/people/v2/people/90000001")["data"]["attributes"]
    assert attributes["created_at"].endswith("Z") and len(attributes["created_at"]) == 20


def test_collection_meta_counts_and_discovery_lists(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?per_page=5")
    assert body["meta"]["total_count"] == 20
    assert body["meta"]["count"] == 5
    assert "search_name" in body["meta"]["can_query_by"]
    assert "updated_at" in body["meta"]["can_order_by"]


def test_per_page_defaults_to_25_and_is_clamped_to_100(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.reset(people=130, seed=2)
    assert get(api, url, "/people/v2/people")["meta"]["count"] == 25
    assert get(api, url, "/people/v2/people?per_page=500")["meta"]["count"] == 100
    assert get(api, url, "/people/v2/people?per_page=0")["meta"]["count"] == 1


def test_first_page_has_next_but_no_prev(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?per_page=5")
    assert body["meta"]["next"] == {"offset": 5}
    assert "prev" not in body["meta"] and "prev" not in body["links"]


def test_last_page_has_no_next_link(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?per_page=5&offset=15")
    assert "next" not in body["links"] and "next" not in body["meta"]
    assert body["meta"]["prev"] == {"offset": 10}


def test_following_next_links_visits_every_record_once(api: requests.Session, url: str) -> None:
    seen, link = [], f"{url}/people/v2/people?per_page=7"
    while link:
        body = api.get(link).json()
        seen += [record["id"] for record in body["data"]]
        link = body["links"].get("next")
    assert len(seen) == len(set(seen)) == 20


def test_links_sort_params_and_leave_where_brackets_unencoded(
    api: requests.Session, url: str
) -> None:
    path = "/people/v2/people?where[updated_at][gte]=2020-01-01T00:00:00Z&per_page=2&include=emails,phone_numbers&order=updated_at"
    link = get(api, url, path)["links"]["next"]
    query = "include=emails%2Cphone_numbers&offset=2&order=updated_at&per_page=2&where[updated_at][gte]=2020-01-01T00:00:00Z"
    assert link == f"{url}/people/v2/people?{query}"


def test_include_fills_relationships_and_included(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?include=emails,phone_numbers&per_page=100")
    included = {(r["type"], r["id"]) for r in body["included"]}
    for person in body["data"]:
        for name in ("emails", "phone_numbers"):
            refs = person["relationships"][name]["data"]
            assert all((ref["type"], ref["id"]) in included for ref in refs)
            assert person["relationships"][name]["links"]["related"].endswith(f"/{name}")


def test_included_records_are_deduplicated(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?include=households&per_page=100")
    keys = [(r["type"], r["id"]) for r in body["included"]]
    assert len(keys) == len(set(keys))
    assert any(len(p["relationships"]["households"]["data"]) for p in body["data"])


def test_without_include_only_builtin_relationships_appear(api: requests.Session, url: str) -> None:
    data = get(api, url, "/people/v2/people/90000001")["data"]
    assert set(data["relationships"]) == {"primary_campus"}
    assert set(data["relationships"]["primary_campus"]) == {"data"}


def test_household_include_people(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/households?include=people")
    assert {r["type"] for r in body["included"]} == {"Person"}


def test_where_matches_exactly(api: requests.Session, url: str) -> None:
    person = get(api, url, "/people/v2/people/90000003")["data"]["attributes"]
    body = get(api, url, f"/people/v2/people?where[first_name]={person['first_name']}")
    assert body["data"] and all(
        p["attributes"]["first_name"] == person["first_name"] for p in body["data"]
    )


def test_where_updated_at_gte_filters_by_time(api: requests.Session, url: str) -> None:
    everyone = get(api, url, "/people/v2/people?order=updated_at&per_page=100")["data"]
    middle = everyone[10]["attributes"]["updated_at"]
    body = get(api, url, f"/people/v2/people?where[updated_at][gte]={middle}&per_page=100")
    assert all(p["attributes"]["updated_at"] >= middle for p in body["data"])
    assert len(body["data"]) >= 10


def test_where_range_combines_two_operators(api: requests.Session, url: str) -> None:
    path = "/people/v2/people?where[created_at][gt]=2000-01-01T00:00:00Z&where[created_at][lt]=2000-01-02T00:00:00Z"
    assert get(api, url, path)["meta"]["total_count"] == 0


def test_date_only_where_value_is_local_midnight(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    # 03:00 UTC on March 1st is still February 28th in New York (the org's time zone).
    pid = control.add_person(
        first_name="Late", last_name="Evening", updated_at="2025-03-01T03:00:00Z"
    )

    def found(value: str) -> bool:
        body = get(api, url, f"/people/v2/people?where[updated_at][gte]={value}&per_page=100")
        return pid in [p["id"] for p in body["data"]]

    assert found("2025-03-01T00:00:00Z")
    assert not found("2025-03-01")
    assert found("2025-02-28")


def test_unknown_where_keys_are_ignored(api: requests.Session, url: str) -> None:
    assert (
        get(api, url, "/people/v2/people?where[email]=nobody@example.org")["meta"]["total_count"]
        == 20
    )


def test_search_name_is_case_insensitive_substring(api: requests.Session, url: str) -> None:
    name = get(api, url, "/people/v2/people/90000001")["data"]["attributes"]["last_name"]
    body = get(api, url, f"/people/v2/people?where[search_name]={name[:3].lower()}&per_page=100")
    assert "90000001" in [p["id"] for p in body["data"]]


def test_search_phone_number_matches_partial_digits(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(first_name="Phil", last_name="Phone", phone_numbers=["(425) 555-0199"])
    for query in ("0199", "555-0199", "(425) 555-0199"):
        body = get(api, url, f"/people/v2/people?where[search_phone_number]={query}")
        assert pid in [p["id"] for p in body["data"]]


def test_order_descending_with_minus(api: requests.Session, url: str) -> None:
    data = get(api, url, "/people/v2/people?order=-updated_at&per_page=100")["data"]
    stamps = [p["attributes"]["updated_at"] for p in data]
    assert stamps == sorted(stamps, reverse=True)


def test_order_ties_are_broken_by_id(api: requests.Session, url: str) -> None:
    data = get(api, url, "/people/v2/people?order=child&per_page=100")["data"]
    adults = [p["id"] for p in data if not p["attributes"]["child"]]
    assert adults == sorted(adults)


def test_version_header_is_echoed_as_processed_version(api: requests.Session, url: str) -> None:
    response = api.get(
        url + "/people/v2/people/90000001", headers={"X-PCO-API-Version": "2023-01-01"}
    )
    assert response.headers["X-PCO-API-Processed-As-Version"] == "2022-07-14"


def test_no_version_header_is_processed_as_2018_08_01(api: requests.Session, url: str) -> None:
    response = api.get(url + "/people/v2/people/90000001")
    assert response.headers["X-PCO-API-Processed-As-Version"] == "2018-08-01"


def test_version_before_2018_08_01_is_400(api: requests.Session, url: str) -> None:
    response = api.get(url + "/people/v2/people", headers={"X-PCO-API-Version": "2017-01-01"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unsupported_version_error"


def test_gender_is_a_letter_before_2022_07_14_and_a_word_after(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(first_name="G", last_name="W", gender="Female")
    old = get(api, url, f"/people/v2/people/{pid}")["data"]["attributes"]["gender"]
    new = get(api, url, f"/people/v2/people/{pid}", **{"X-PCO-API-Version": "2022-07-14"})
    assert (old, new["data"]["attributes"]["gender"]) == ("F", "Female")


def test_address_has_street_lines_from_2023_03_21_and_street_before(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(
        first_name="A",
        last_name="B",
        addresses=[{"street_line_1": "1 Main St", "street_line_2": "Apt 2"}],
    )
    old = get(api, url, f"/people/v2/people/{pid}/addresses")["data"][0]["attributes"]
    new = get(
        api, url, f"/people/v2/people/{pid}/addresses", **{"X-PCO-API-Version": "2023-03-21"}
    )["data"][0]["attributes"]
    assert old["street"] == "1 Main St\nApt 2" and "street_line_1" not in old
    assert new["street_line_1"] == "1 Main St" and "street" not in new


def test_organization_is_served_at_people_v2(api: requests.Session, url: str) -> None:
    attributes = get(api, url, "/people/v2")["data"]["attributes"]
    assert attributes["name"] == "Grace Church Sandbox"
    assert (attributes["time_zone"], attributes["country_code"]) == ("America/New_York", "US")


def test_a_second_church_is_a_sandbox_with_its_own_organization_id() -> None:
    app = create_sandbox_app(people=1, organization_id="400002")
    auth = {"Authorization": "Basic " + base64.b64encode(b"sandbox:sandbox-secret").decode()}
    with app.test_client() as browser:
        organization = browser.get("/people/v2", headers=auth).get_json()["data"]
        listing = browser.get("/people/v2/people", headers=auth).get_json()
    assert (organization["type"], organization["id"]) == ("Organization", "400002")
    assert listing["meta"]["parent"] == {"id": "400002", "type": "Organization"}


def test_nested_collection_has_parent_meta(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people/90000001/emails")
    assert body["meta"]["parent"] == {"id": "90000001", "type": "Person"}
    assert all(e["relationships"]["person"]["data"]["id"] == "90000001" for e in body["data"])


def test_emails_can_be_found_by_address(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    pid = control.add_person(first_name="E", last_name="Mail", emails=["find.me@example.org"])
    body = get(api, url, "/people/v2/emails?where[address]=find.me@example.org")
    assert [e["relationships"]["person"]["data"]["id"] for e in body["data"]] == [pid]


def test_unknown_id_is_404_in_pco_format(api: requests.Session, url: str) -> None:
    response = api.get(url + "/people/v2/people/1")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {
                "status": "404",
                "title": "Not Found",
                "detail": "The resource you requested could not be found",
            }
        ]
    }


def test_household_people_and_list_people_are_served(api: requests.Session, url: str) -> None:
    household = get(api, url, "/people/v2/households?per_page=1")["data"][0]
    people = get(api, url, f"/people/v2/households/{household['id']}/people")
    assert people["meta"]["total_count"] == household["attributes"]["member_count"]
    a_list = get(api, url, "/people/v2/lists?per_page=1")["data"][0]
    assert (
        get(api, url, f"/people/v2/lists/{a_list['id']}/people")["meta"]["total_count"]
        == a_list["attributes"]["total_people"]
    )


def test_read_only_apps_are_served(api: requests.Session, url: str) -> None:
    for path in (
        "/groups/v2/groups", "/groups/v2/group_types", "/check-ins/v2/check_ins", "/check-ins/v2/events",
        "/check-ins/v2/stations", "/check-ins/v2/labels", "/check-ins/v2/headcounts", "/check-ins/v2/locations",
        "/calendar/v2/events", "/calendar/v2/event_instances", "/people/v2/person_mergers",
    ):  # fmt: skip
        assert api.get(url + path).status_code == 200, path


def test_event_locations_are_nested_under_check_in_events(api: requests.Session, url: str) -> None:
    event = get(api, url, "/check-ins/v2/events")["data"][0]
    body = get(api, url, f"/check-ins/v2/events/{event['id']}/locations")
    assert body["data"] and body["meta"]["parent"] == {"id": event["id"], "type": "Event"}


def test_event_instances_future_filter_and_event_include(api: requests.Session, url: str) -> None:
    body = get(api, url, "/calendar/v2/event_instances?filter=future&include=event&order=starts_at")
    everything = get(api, url, "/calendar/v2/event_instances")
    assert 0 < body["meta"]["total_count"] < everything["meta"]["total_count"]
    assert {r["type"] for r in body["included"]} == {"Event"}


def all_pages(api: requests.Session, url: str, path: str) -> list[dict[str, Any]]:
    records, link = [], f"{url}{path}"
    while link:
        body = api.get(link).json()
        records += body["data"]
        link = body["links"].get("next")
    return records


def test_time_range_with_order_matches_a_full_sort(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.reset(people=150, seed=9)
    everyone = all_pages(api, url, "/people/v2/people?per_page=100")
    middle = sorted(p["attributes"]["updated_at"] for p in everyone)[60]
    expected = sorted(
        (p for p in everyone if p["attributes"]["updated_at"] >= middle),
        key=lambda p: (p["attributes"]["updated_at"], int(p["id"])),
    )
    got = all_pages(
        api, url, f"/people/v2/people?order=updated_at&per_page=25&where[updated_at][gte]={middle}"
    )
    assert [p["id"] for p in got] == [p["id"] for p in expected]


def test_time_range_without_order_keeps_id_order(api: requests.Session, url: str) -> None:
    got = all_pages(api, url, "/people/v2/people?where[created_at][gte]=2000-01-01T00:00:00Z")
    assert [p["id"] for p in got] == sorted(p["id"] for p in got) and len(got) == 20


def test_changed_records_move_to_the_end_of_updated_at_order(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.edit_person("90000001", nickname="Bumped")
    ordered = all_pages(api, url, "/people/v2/people?order=updated_at&per_page=100")
    assert ordered[-1]["id"] == "90000001"
