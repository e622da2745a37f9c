from __future__ import annotations

from datetime import date, datetime

import pytest

from flask_pco.client.jsonapi import parse_document
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.people import (
    AddressData,
    EmailData,
    PhoneData,
    normalize_gender,
    person_from_resource,
)
from flask_pco.mapping.phones import to_e164

from .conftest import example, person_document, resource


def only_person(**kwargs):
    document = person_document(**kwargs)
    return person_from_resource(document.data[0], document)


def test_maps_the_example_page_with_included_contacts(people_page):
    avery = person_from_resource(people_page.data[0], people_page)
    assert (avery.pco_id, avery.first_name, avery.last_name) == ("90000101", "Avery", "Example")
    assert avery.updated_at == datetime(2025, 3, 12, 9, 41)
    assert avery.emails == (EmailData("avery.example@example.org", True, "51000201"),)
    assert avery.phones == (PhoneData("+15550102345", "Mobile", True, "62000301"),)
    assert avery.is_active and not avery.child and avery.dob is None


def test_maps_the_single_person_example():
    document = example("person_show.json")
    person = person_from_resource(document.data[0], document)
    assert person.pco_id == document.data[0].id
    assert person.emails == ()


def test_without_a_document_contacts_are_empty(people_page):
    person = person_from_resource(people_page.data[0])
    assert person.emails == () and person.phones == ()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("M", "M"),
        ("Male", "M"),
        ("male", "M"),
        ("F", "F"),
        ("Female", "F"),
        (None, None),
        ("", None),
        ("Other", "Other"),
    ],
)
def test_gender_has_one_local_form(sent, kept):
    assert normalize_gender(sent) == kept


def test_birthdate_child_and_remote_id_are_converted():
    person = only_person(birthdate="2015-06-01", child=True, remote_id=42)
    assert (person.dob, person.child, person.remote_id) == (date(2015, 6, 1), True, 42)


def test_remote_id_as_a_string_of_digits_is_accepted():
    assert only_person(remote_id="17").remote_id == 17


@pytest.mark.parametrize(
    "attributes", [{"status": "inactive"}, {"inactivated_at": "2025-01-01T00:00:00Z"}]
)
def test_inactive_status_or_inactivated_at_make_the_person_inactive(attributes):
    assert only_person(**attributes).is_active is False


def test_updated_at_with_offset_becomes_naive_utc():
    assert only_person(updated_at="2025-03-12T10:41:00+01:00").updated_at == datetime(
        2025, 3, 12, 9, 41
    )


def test_phone_uses_pco_e164_when_present():
    person = only_person(
        phones=[
            {
                "number": "garbage typed",
                "e164": "+15550107788",
                "location": "Home",
                "primary": False,
            }
        ]
    )
    assert person.phones == (PhoneData("+15550107788", "Home", False, "p0"),)


def test_phone_without_e164_is_parsed_with_the_country():
    person = only_person(
        phones=[{"number": "(555) 010-7788", "location": "Mobile", "primary": True}]
    )
    assert person.phones[0].e164 == "+15550107788"


def test_phone_country_can_be_changed():
    assert to_e164("020 7946 0018", country="GB") == "+442079460018"


def test_invalid_phone_is_dropped_and_reported_but_the_person_is_kept():
    person = only_person(
        phones=[
            {"number": "12", "location": "Home"},
            {"number": "555-010-2345", "location": "Work"},
        ]
    )
    assert [p.e164 for p in person.phones] == ["+15550102345"]
    assert len(person.problems) == 1 and "'12'" in person.problems[0]


def test_email_without_an_address_is_dropped_and_reported():
    person = only_person(
        emails=[{"address": "", "primary": True}, {"address": "a@example.org", "primary": False}]
    )
    assert [e.address for e in person.emails] == ["a@example.org"]
    assert person.problems


def test_new_style_address_lines_are_joined():
    person = only_person(
        addresses=[
            {
                "street_line_1": "100 Example Ave",
                "street_line_2": "Apt 2",
                "city": "Springfield",
                "state": "IL",
                "zip": "62701",
                "primary": True,
            }
        ]
    )
    assert person.addresses == (
        AddressData(
            "100 Example Ave, Apt 2",
            "Springfield",
            "IL",
            "62701",
            True,
            pco_id="a0",
            street_line_1="100 Example Ave",
            street_line_2="Apt 2",
        ),
    )


def test_old_style_street_is_read():
    person = only_person(addresses=[{"street": "1 Old Rd", "city": "X", "primary": True}])
    assert person.addresses[0].street == "1 Old Rd"


def test_primary_address_is_preferred_else_the_first():
    person = only_person(
        addresses=[{"street": "1 A", "primary": False}, {"street": "2 B", "primary": True}]
    )
    assert person.primary_address.street == "2 B"
    person = only_person(addresses=[{"street": "1 A", "primary": False}])
    assert person.primary_address.street == "1 A"
    assert only_person().primary_address is None


def test_address_example_maps_to_family_fields():
    document = example("address_resource.json")
    document = parse_document(
        {
            "data": [
                resource(
                    "Person",
                    "1",
                    {"addresses": [{"type": "Address", "id": document.data[0].id}]},
                    first_name="A",
                )
            ],
            "included": [
                {
                    "type": "Address",
                    "id": document.data[0].id,
                    "attributes": dict(document.data[0].attributes),
                }
            ],
        }
    )
    person = person_from_resource(document.data[0], document)
    assert person.primary_address.as_family_fields() == {
        "street": "100 Example Ave, Apt 2",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
    }


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"first_name": None, "last_name": None}, "neither a first nor a last name"),
        ({"birthdate": "June 1st"}, "birthdate"),
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"remote_id": "abc"}, "remote_id"),
        ({"first_name": {"a": 1}}, "first_name"),
    ],
)
def test_malformed_person_raises_document_error_naming_the_problem(attributes, message):
    with pytest.raises(DocumentError, match=message):
        only_person(**attributes)


def test_a_resource_of_another_type_is_refused():
    document = parse_document({"data": [resource("Household", "1", name="x")]})
    with pytest.raises(DocumentError, match="expected a Person"):
        person_from_resource(document.data[0], document)


def test_demographics_are_keyed_by_logical_field():
    person = only_person(gender="Female", birthdate="2000-01-02")
    assert person.demographics() == {
        "first_name": "Avery",
        "last_name": "Example",
        "gender": "F",
        "dob": date(2000, 1, 2),
        "child": False,
        "is_active": True,
    }


def test_country_function_is_called_only_for_numbers_without_e164():
    calls = []

    def country():
        calls.append(1)
        return "GB"

    assert to_e164("+1 555 010 7788", e164="+15550107788", country=country) == "+15550107788"
    assert calls == []
    assert to_e164("020 7946 0018", country=country) == "+442079460018"
    assert calls == [1]


def test_old_style_multi_line_street_is_joined_like_the_new_lines():
    person = only_person(addresses=[{"street": "1 Elm St\nApt 4", "primary": True}])
    assert person.addresses[0].street == "1 Elm St, Apt 4"
