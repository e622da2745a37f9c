"""PCO read-only resources to display rows: pure functions over PCO-shaped documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_pco.client.jsonapi import Document, parse_document
from flask_pco.mapping.readonly import VIEWS, parse_timestamp, row_to_json

EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> Document:
    return parse_document(json.loads((EXAMPLES / f"{name}.json").read_text()))


def document(type_: str, **attributes: Any) -> Document:
    return parse_document({"data": [{"type": type_, "id": "1", "attributes": attributes}]})


def first_row(view: str, doc: Document) -> Any:
    return VIEWS[view].parse(doc.data[0], doc)


def test_a_check_in_has_the_full_name_code_kind_event_and_times() -> None:
    row = first_row("checkins", example("check_ins_list"))
    assert (row.name, row.security_code, row.kind) == ("Casey Placeholder", "K7QX", "Regular")
    assert row.created_at == datetime(2025, 3, 16, 14, 51, 3, tzinfo=UTC)
    assert row.checked_out_at == datetime(2025, 3, 16, 16, 32, 10, tzinfo=UTC)


def test_an_event_instance_takes_its_description_from_the_included_event() -> None:
    row = first_row("calendar-events", example("calendar_event_instances"))
    assert (row.name, row.description, row.location) == (
        "Sunday Gathering",
        "Weekly gathering",
        "Main Hall",
    )
    assert row.recurrence == "Every week on Sunday"
    assert row.starts_at == datetime(2025, 3, 23, 15, 0, tzinfo=UTC)


def test_a_headcount_names_its_attendance_type() -> None:
    row = first_row("headcounts", example("check_ins_headcounts"))
    assert (row.total, row.attendance_type) == (212, "Adults in Worship")


def test_location_ages_are_shown_in_years_and_grades_as_a_range() -> None:
    doc = document(
        "Location", name="Preschool", kind="Location", age_min_in_months=36,
        age_max_in_months=66, grade_min=None, grade_max=None, max_occupancy=20,
    )  # fmt: skip
    row = first_row("checkin-locations", doc)
    assert (row.age_range, row.grade_range, row.max_occupancy) == ("3 to 5.5 years", "", 20)


def test_an_open_ended_grade_range_says_so() -> None:
    row = first_row("checkin-locations", document("Location", name="Youth", grade_min=6))
    assert row.grade_range == "from 6"


def test_a_group_type_says_whether_church_center_shows_it() -> None:
    row = first_row(
        "group-types", document("GroupType", name="Small Groups", church_center_visible=True)
    )
    assert row.church_center_visible is True


def test_missing_attributes_become_empty_values_not_errors() -> None:
    for name, view in VIEWS.items():
        row = view.parse(document("Anything").data[0], document("Anything"))
        assert row.id == "1", name


def test_a_malformed_timestamp_is_none() -> None:
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp(None) is None


def test_rows_become_json_with_iso_timestamps() -> None:
    row = first_row("checkins", example("check_ins_list"))
    assert row_to_json(row)["created_at"] == "2025-03-16T14:51:03+00:00"


def test_every_view_lists_its_columns_without_the_id() -> None:
    assert VIEWS["checkins"].columns == (
        "name",
        "security_code",
        "kind",
        "event",
        "created_at",
        "checked_out_at",
    )
