"""Pulling custom fields: each PCO type lands in the site's column as a Python value, from the
people listing itself (no request per person), and a bad value costs only that field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from flask_pco.sandbox.testing import SandboxControl
from tests.sync.custom.conftest import issues, parishioner, run

EVERY_TYPE = {
    "T-shirt size": "L",
    "Baptism date": "2001-06-17",
    "Small group interest": ["Youth", "Prayer"],
    "Allergy notes": "Peanuts",
    "Years attending": "12",
    "Background check": "true",
}


def test_pull_maps_every_custom_field_type_to_a_python_value(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    site()
    pco_id = sandbox.add_person(first_name="Ada", last_name="Lovelace", custom_fields=EVERY_TYPE)

    assert run("pull").status == "succeeded"

    row = parishioner(pco_id)
    assert row.shirt_size == "L"
    assert row.baptised_on == date(2001, 6, 17)
    assert row.interests == ["Prayer", "Youth"]  # in the field's option order
    assert row.allergy_notes == "Peanuts"
    assert row.years_attending == 12
    assert row.background_checked is True
    assert row.pco_snapshot["baptised_on"] == "2001-06-17"


def test_a_value_cleared_in_pco_is_cleared_on_the_site(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    site()
    pco_id = sandbox.add_person(first_name="Ada", custom_fields={"T-shirt size": "M"})
    run("pull")
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == pco_id]
    sandbox.delete("field_data", datum["id"])

    run("pull")

    assert parishioner(pco_id).shirt_size is None


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("Years attending", "a dozen", "years_attending"),
        ("Baptism date", "last spring", "baptised_on"),
        ("Background check", "maybe", "background_checked"),
        ("T-shirt size", "XXXL", "shirt_size"),
    ],
)
def test_a_bad_value_is_skipped_and_reported_and_the_rest_still_syncs(
    site: Callable[..., Any], sandbox: SandboxControl, field: str, value: str, column: str
) -> None:
    site()
    pco_id = sandbox.add_person(
        first_name="Ada", last_name="King", custom_fields={field: value, "Allergy notes": "None"}
    )

    finished = run("pull")

    row = parishioner(pco_id)
    assert (row.given_name, row.allergy_notes, getattr(row, column)) == ("Ada", "None", None)
    [reason] = issues(finished)
    assert f"custom field {field!r}" in reason and repr(value) in reason


def test_fields_are_mapped_by_id_as_well_as_by_name(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    definitions = sandbox.state()["records"]["FieldDefinition"]
    shirt = next(d["id"] for d in definitions if d["name"] == "T-shirt size")
    site(custom={int(shirt): "shirt_size"})
    pco_id = sandbox.add_person(first_name="Ada", custom_fields={"T-shirt size": "S"})

    run("pull")

    assert parishioner(pco_id).shirt_size == "S"


def test_a_mapped_field_pco_lacks_is_reported_and_the_people_still_sync(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    site(custom={"Shoe size": "shirt_size", "Allergy notes": "allergy_notes"})
    pco_id = sandbox.add_person(first_name="Ada", custom_fields={"Allergy notes": "Dust"})

    finished = run("pull")

    assert parishioner(pco_id).allergy_notes == "Dust"
    assert any(
        "'Shoe size'" in reason and "does not exist" in reason for reason in issues(finished)
    )


def test_custom_fields_cost_one_request_per_run_not_one_per_person(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    site()
    sandbox.reset(people=35, seed=3)
    sandbox.clear_requests()

    assert run("pull").status == "succeeded"

    paths = [entry["path"].split("?")[0] for entry in sandbox.requests()]
    people_pages = [p for p in paths if p == "/people/v2/people"]
    assert len(people_pages) == 4  # 35 people at 10 a page, as without custom fields
    assert paths.count("/people/v2/field_definitions") == 1
    assert not any("/field_data" in p for p in paths)


def test_the_journal_records_a_custom_fields_change_both_ways(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    from sqlalchemy import select

    from flask_pco import current_pco
    from tests.fields_site import fields_db

    site()
    pco_id = sandbox.add_person(first_name="Ada", custom_fields={"Baptism date": "2001-06-17"})
    run("pull")
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == pco_id]
    sandbox.edit("field_data", datum["id"], value="2002-07-18")
    run("pull")
    row = parishioner(pco_id)
    row.years_attending = 4
    fields_db.session.commit()
    run("push")

    Entry = current_pco().models.JournalEntry
    entries = fields_db.session.scalars(select(Entry).where(Entry.action == "update")).all()
    changes = {(e.side, e.field): (e.old_value, e.new_value) for e in entries}
    assert changes[("local", "baptised_on")] == ("2001-06-17", "2002-07-18")
    assert changes[("pco", "years_attending")] == (None, 4)


def test_a_field_mapped_later_fills_in_on_the_next_pull_though_pco_changed_nobody(
    site: Callable[..., Any], sandbox: SandboxControl
) -> None:
    sandbox.set_clock("2020-01-01T00:00:00Z")  # long settled: a re-run skips her as unchanged
    try:
        pco_id = sandbox.add_person(
            first_name="Ada", custom_fields={"T-shirt size": "M", "Allergy notes": "Dust"}
        )
    finally:
        sandbox.set_clock(None)
    site(custom={"T-shirt size": "shirt_size"})
    run("pull")
    assert parishioner(pco_id).allergy_notes is None

    site(custom={"T-shirt size": "shirt_size", "Allergy notes": "allergy_notes"}, empty=False)
    again = run("pull")

    assert parishioner(pco_id).allergy_notes == "Dust"
    assert again.updated == 1
    assert run("pull").updated == 0  # agreed now: skipped as unchanged
