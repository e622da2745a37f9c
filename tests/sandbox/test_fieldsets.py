"""Sparse fieldsets (``fields[TYPE]``, REFERENCE §1.6): a type's resources keep only the
fields named, in data and in included; other types, paging and includes are untouched."""

from __future__ import annotations

import requests

from tests.sandbox.test_reads import get


def test_fields_keeps_only_the_named_attributes(api: requests.Session, url: str) -> None:
    body = get(api, url, "/people/v2/people?fields[Person]=updated_at&per_page=100")
    assert body["data"]
    assert all(set(p["attributes"]) == {"updated_at"} for p in body["data"])
    assert all(p["type"] == "Person" and p["id"] and p["links"]["self"] for p in body["data"])


def test_fields_drops_relationships_not_named(api: requests.Session, url: str) -> None:
    person = get(api, url, "/people/v2/people/90000001?fields[Person]=first_name")["data"]
    assert (person["attributes"].keys(), person["relationships"]) == ({"first_name"}, {})


def test_a_relationship_named_in_fields_stays(api: requests.Session, url: str) -> None:
    path = "/people/v2/people?include=emails&fields[Person]=last_name,emails&per_page=100"
    body = get(api, url, path)
    assert all(set(p["relationships"]) == {"emails"} for p in body["data"])
    assert {r["type"] for r in body["included"]} == {"Email"}


def test_fields_applies_to_included_records_of_that_type(api: requests.Session, url: str) -> None:
    path = "/people/v2/people?include=emails&fields[Email]=address&per_page=100"
    body = get(api, url, path)
    assert body["included"]
    assert all(set(r["attributes"]) == {"address"} for r in body["included"])
    assert all(len(p["attributes"]) > 5 for p in body["data"])  # Person not named: whole


def test_fields_changes_neither_paging_nor_the_records_listed(
    api: requests.Session, url: str
) -> None:
    whole = get(api, url, "/people/v2/people?order=created_at&per_page=7&offset=7")
    sparse = get(api, url, "/people/v2/people?order=created_at&per_page=7&offset=7"
                 "&fields[Person]=updated_at")  # fmt: skip
    assert [p["id"] for p in sparse["data"]] == [p["id"] for p in whole["data"]]
    assert sparse["meta"]["total_count"] == whole["meta"]["total_count"]
    assert [p["attributes"]["updated_at"] for p in sparse["data"]] == [
        p["attributes"]["updated_at"] for p in whole["data"]
    ]


def test_an_unknown_field_name_is_ignored(api: requests.Session, url: str) -> None:
    person = get(api, url, "/people/v2/people/90000001?fields[Person]=nope,first_name")["data"]
    assert set(person["attributes"]) == {"first_name"}
