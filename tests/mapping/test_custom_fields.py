"""Custom field values both ways: PCO's strings to Python values and back, bad values named."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from flask_pco.client.jsonapi import parse_document
from flask_pco.mapping.custom_fields import (
    FieldDefinition,
    custom_values,
    from_pco,
    resolve_fields,
    to_pco_strings,
)
from tests.mapping.conftest import ref, resource

SIZE = FieldDefinition("1", "T-shirt size", "select", ("S", "M", "L"))
INTERESTS = FieldDefinition("2", "Interests", "checkboxes", ("Prayer", "Youth", "Service"))
YEARS = FieldDefinition("3", "Years", "number")
BAPTISM = FieldDefinition("4", "Baptism date", "date")
CHECKED = FieldDefinition("5", "Background check", "boolean")
NOTES = FieldDefinition("6", "Notes", "text")


@pytest.mark.parametrize(
    ("definition", "raw", "value"),
    [
        (SIZE, ["M"], "M"),
        (INTERESTS, ["Service", "Prayer"], ["Prayer", "Service"]),
        (YEARS, ["12"], 12),
        (YEARS, ["2.5"], 2.5),
        (BAPTISM, ["2001-06-17"], date(2001, 6, 17)),
        (CHECKED, ["true"], True),
        (CHECKED, ["False"], False),
        (NOTES, ["  Peanuts "], "Peanuts"),
        (NOTES, [], None),
        (INTERESTS, [], None),
    ],
)
def test_pco_strings_become_python_values(
    definition: FieldDefinition, raw: list[str], value: Any
) -> None:
    assert from_pco(definition, raw) == value


@pytest.mark.parametrize(
    ("definition", "raw", "why"),
    [
        (SIZE, ["XXL"], "'XXL' is not one of its options"),
        (INTERESTS, ["Knitting"], "'Knitting' is not one of its options"),
        (YEARS, ["many"], "'many' is not a number"),
        (YEARS, ["NaN"], "'NaN' is not a number"),
        (BAPTISM, ["spring"], "'spring' is not a date"),
        (CHECKED, ["yes"], "'yes' is not true or false"),
    ],
)
def test_a_value_its_type_refuses_is_a_clear_error(
    definition: FieldDefinition, raw: list[str], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        from_pco(definition, raw)


@pytest.mark.parametrize(
    ("definition", "value", "strings"),
    [
        (SIZE, "L", ["L"]),
        (INTERESTS, ["Youth", "Prayer"], ["Youth", "Prayer"]),
        (YEARS, 3, ["3"]),
        (YEARS, 3.0, ["3"]),
        (BAPTISM, date(1999, 12, 5), ["1999-12-05"]),
        (BAPTISM, "1999-12-05", ["1999-12-05"]),
        (CHECKED, False, ["false"]),
        (NOTES, None, []),
        (INTERESTS, [], []),
    ],
)
def test_python_values_become_pco_strings(
    definition: FieldDefinition, value: Any, strings: list[str]
) -> None:
    assert to_pco_strings(definition, value) == strings


def test_a_person_without_included_field_data_knows_no_custom_values() -> None:
    document = parse_document({"data": [resource("Person", "7", first_name="Ada")]})
    assert custom_values(document.data[0], document, {"shirt_size": SIZE}) == (None, [])


def test_a_bad_value_drops_that_field_only() -> None:
    data = [ref("FieldDatum", "a"), ref("FieldDatum", "b")]
    person = resource("Person", "7", {"field_data": data}, first_name="Ada")
    included = [
        resource("FieldDatum", "a", {"field_definition": ref("FieldDefinition", "1")}, value="XXL"),
        resource("FieldDatum", "b", {"field_definition": ref("FieldDefinition", "3")}, value="4"),
    ]
    document = parse_document({"data": [person], "included": included})

    values, problems = custom_values(
        document.data[0], document, {"shirt_size": SIZE, "years": YEARS, "notes": NOTES}
    )

    assert values == {"years": 4, "notes": None}
    assert problems == ["custom field 'T-shirt size': 'XXL' is not one of its options"]


def test_fields_resolve_by_name_or_id_and_name_what_is_missing() -> None:
    twin = FieldDefinition("9", "Notes", "text")
    found, problems = resolve_fields(
        {"size": "t-shirt SIZE", "years": "3", "shoe": "Shoe size", "notes": "Notes"},
        [SIZE, YEARS, NOTES, twin],
    )
    assert found == {"size": SIZE, "years": YEARS}
    assert problems == [
        "PCO custom field 'Shoe size' (for shoe) does not exist",
        "PCO custom field 'Notes' (for notes) names several fields: map it by id",
    ]
