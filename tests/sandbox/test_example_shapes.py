"""Every resource the shared examples show comes back with the same attribute, relationship,
link and meta names (values differ: the examples are synthetic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "pco_examples"
CASES = [
    ("person_show.json", "/people/v2/people/90000001", None),
    ("email_resource.json", "/people/v2/emails/51000001", None),
    ("phone_number_resource.json", "/people/v2/phone_numbers/62000001", None),
    ("address_resource.json", "/people/v2/addresses/73000001", "2023-03-21"),
    ("household_resource.json", "/people/v2/households/81000001", None),
    ("group_resource.json", "/groups/v2/groups/1500001", "2023-07-10"),
    (
        "groups_memberships_list.json",
        "/groups/v2/groups/1500001/memberships?include=person",
        "2023-07-10",
    ),
    ("lists_collection.json", "/people/v2/lists?per_page=1", None),
    (
        "calendar_event_instances.json",
        "/calendar/v2/event_instances?include=event&per_page=1",
        "2022-07-07",
    ),
    (
        "check_ins_list.json",
        "/check-ins/v2/check_ins?include=person,locations,event&per_page=1",
        "2025-05-28",
    ),
    (
        "check_ins_headcounts.json",
        "/check-ins/v2/event_times/8800001/headcounts?include=attendance_type",
        None,
    ),
    ("person_create_response_201.json", "/people/v2/people/90000001", None),
]


def first(document: dict[str, Any]) -> dict[str, Any]:
    data = document["data"]
    return data[0] if isinstance(data, list) else data  # type: ignore[no-any-return]


@pytest.mark.parametrize(("example", "path", "version"), CASES)
def test_resource_shape_matches_the_example(
    api: requests.Session, url: str, example: str, path: str, version: str | None
) -> None:
    expected = json.loads((EXAMPLES / example).read_text())
    headers = {"X-PCO-API-Version": version} if version else {}
    got = api.get(url + path, headers=headers).json()
    want, have = first(expected), first(got)
    assert set(have["attributes"]) == set(want["attributes"])
    assert set(have["relationships"]) == set(want.get("relationships", {}))
    assert set(want.get("links", {})) <= set(have["links"])
    assert set(got["meta"]) - {"next", "prev", "can_filter"} == set(expected["meta"]) - {
        "next",
        "prev",
        "can_filter",
    }
    assert {r["type"] for r in got["included"]} == {r["type"] for r in expected["included"]}
