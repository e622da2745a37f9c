"""The optional person fields: read where PCO sends them, left out where it does not."""

from __future__ import annotations

from datetime import date

from flask_pco.client.jsonapi import parse_document
from flask_pco.mapping.payloads import person_attributes
from flask_pco.mapping.people import person_from_resource

from .conftest import example, person_document, ref, resource


def only_person(**kwargs):
    document = person_document(**kwargs)
    return person_from_resource(document.data[0], document)


def test_the_examples_optional_fields_are_read_in_local_form(people_page):
    avery = person_from_resource(people_page.data[0], people_page)
    more = dict(avery.more)
    assert more["membership"] == "Member"
    assert more["primary_campus"] is None
    assert more["avatar_url"] == "https://avatars.planningcenteronline.com/uploads/initials/AE.png"
    assert "household_role" not in more  # not in the example: PCO did not send it


def test_numbers_and_dates_are_read_as_such():
    person = only_person(grade="3", graduation_year=2035, anniversary="2010-05-01")
    more = dict(person.more)
    assert (more["grade"], more["graduation_year"]) == (3, 2035)
    assert more["anniversary"] == date(2010, 5, 1)


def test_a_bad_optional_value_is_reported_and_the_rest_of_the_person_kept():
    person = only_person(grade="fourth", nickname="Avy")
    assert "grade" not in dict(person.more)
    assert dict(person.more)["nickname"] == "Avy"
    assert any("grade" in problem for problem in person.problems)


def test_household_role_is_read_only_where_pco_sends_it():
    assert dict(only_person(household_role="Head").more)["household_role"] == "Head"
    assert "household_role" not in dict(only_person().more)


def test_marital_status_comes_from_its_included_record():
    document = parse_document(
        {
            "data": [
                resource(
                    "Person",
                    "900",
                    {"marital_status": ref("MaritalStatus", "7")},
                    first_name="Avery",
                )
            ],
            "included": [resource("MaritalStatus", "7", value="Married")],
        }
    )
    person = person_from_resource(document.data[0], document)
    assert dict(person.more)["marital_status"] == "Married"


def test_a_marital_status_named_but_not_included_is_unknown_not_cleared():
    document = parse_document(
        {
            "data": [
                resource(
                    "Person",
                    "900",
                    {"marital_status": ref("MaritalStatus", "7")},
                    first_name="Avery",
                )
            ]
        }
    )
    assert "marital_status" not in dict(person_from_resource(document.data[0], document).more)


def test_only_writable_fields_become_person_attributes():
    attributes = person_attributes(
        {"nickname": " Avy ", "grade": 2, "primary_campus": "55", "avatar_url": "x", "dob": None}
    )
    assert attributes == {
        "nickname": "Avy",
        "grade": 2,
        "primary_campus_id": "55",
        "birthdate": None,
    }


def test_the_single_person_example_reads_its_campus_relationship():
    document = example("person_show.json")
    assert dict(person_from_resource(document.data[0], document).more)["primary_campus"] is None
