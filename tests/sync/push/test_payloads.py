from datetime import date

import pytest

from flask_pco.mapping.payloads import (
    address_attributes,
    email_attributes,
    group_membership_attributes,
    household_membership_payload,
    household_relationships,
    is_leader_role,
    new_address_attributes,
    normalize_email,
    person_address_attributes,
    person_attributes,
    phone_attributes,
    primary_contact,
)
from flask_pco.mapping.phones import normalize_phone

FULL_PERSON = {
    "first_name": " Dana ",
    "last_name": "Newcomer",
    "gender": "F",
    "dob": date(1990, 5, 17),
    "child": False,
    "is_active": True,
}


def test_person_create_sends_remote_id_as_an_integer():
    attributes = person_attributes(FULL_PERSON, remote_id="77001")
    assert attributes["remote_id"] == 77001
    assert isinstance(attributes["remote_id"], int)


def test_person_create_maps_every_field_to_pco_names():
    assert person_attributes(FULL_PERSON) == {
        "first_name": "Dana",
        "last_name": "Newcomer",
        "gender": "Female",
        "birthdate": "1990-05-17",
        "child": False,
        "status": "active",
    }


def test_person_patch_holds_only_the_given_fields():
    assert person_attributes({"dob": "2001-02-03"}) == {"birthdate": "2001-02-03"}


def test_inactive_person_is_sent_with_inactive_status():
    assert person_attributes({"is_active": False}) == {"status": "inactive"}


@pytest.mark.parametrize(
    ("local", "pco"), [("m", "Male"), ("Male", "Male"), ("female", "Female"), ("", None)]
)
def test_gender_becomes_pcos_full_word(local, pco):
    assert person_attributes({"gender": local}) == {"gender": pco}


def test_email_goes_in_as_home_with_primary_flag():
    assert email_attributes(" A@Example.org ", primary=True) == {
        "address": "A@Example.org",
        "location": "Home",
        "primary": True,
    }


def test_emails_compare_lower_case():
    assert normalize_email(" Ann@Example.ORG") == "ann@example.org"


@pytest.mark.parametrize("typed", ["(555) 010-7788", "555-010-7788", "+1 555 010 7788"])
def test_phone_numbers_compare_in_e164(typed):
    assert normalize_phone(typed) == "+15550107788"


def test_unparseable_phone_number_is_kept_as_typed():
    assert normalize_phone(" not a number ") == "not a number"


@pytest.mark.parametrize(
    ("kind", "location"), [("home", "Home"), ("work", "Work"), ("cell", "Mobile"), (None, "Mobile")]
)
def test_phone_always_carries_a_location(kind, location):
    attributes = phone_attributes("+15550107788", kind, primary=False)
    assert attributes == {"number": "+15550107788", "location": location, "primary": False}


def test_household_relationships_name_people_and_primary_contact():
    assert household_relationships(["1", "2"], "1") == {
        "people": {"data": [{"type": "Person", "id": "1"}, {"type": "Person", "id": "2"}]},
        "primary_contact": {"data": {"type": "Person", "id": "1"}},
    }


def test_primary_contact_is_the_first_adult():
    assert primary_contact([("9", "child"), ("7", "adult"), ("8", "adult")]) == "7"


def test_primary_contact_of_children_only_is_the_first_member():
    assert primary_contact([("9", "child"), ("7", "child")]) == "9"


def test_household_without_members_is_refused():
    with pytest.raises(ValueError, match="at least one member"):
        primary_contact([])


def test_household_membership_is_not_pending():
    attributes, relationships = household_membership_payload("42")
    assert attributes == {"pending": False}
    assert relationships == {"person": {"data": {"type": "Person", "id": "42"}}}


@pytest.mark.parametrize(("is_leader", "role"), [(True, "leader"), (False, "member")])
def test_group_membership_role_follows_is_leader(is_leader, role):
    assert group_membership_attributes(5, is_leader=is_leader) == {"person_id": "5", "role": role}


def test_leader_role_reads_back_as_leader():
    assert is_leader_role("leader") and not is_leader_role("member")


def test_address_street_follows_the_people_api_version():
    values = {"street": "1 Main St", "city": "Portland"}
    assert address_attributes(values, people_version="2022-07-14") == {
        "street": "1 Main St",
        "city": "Portland",
    }
    assert address_attributes(values, people_version="2025-11-10")["street_line_1"] == "1 Main St"


def test_new_address_is_the_primary_home_address():
    attributes = new_address_attributes({"zip": "97201"}, people_version="2022-07-14")
    assert attributes == {"zip": "97201", "location": "Home", "primary": True}


ADDRESS = {"street_line_1": "1 Gate St", "street_line_2": "Flat 2", "city": "Bethany",
           "is_primary": True}  # fmt: skip


def test_a_person_address_change_sends_only_what_changed():
    changes = {"city": "Bethphage", "is_primary": False}
    assert person_address_attributes(changes, ADDRESS, people_version="2023-03-21") == {
        "city": "Bethphage",
        "primary": False,
    }


def test_a_street_line_change_sends_both_lines_as_one_street_before_2023_03_21():
    changes = {"street_line_2": "Flat 3"}
    attributes = person_address_attributes(changes, ADDRESS, people_version="2022-07-14")
    assert attributes == {"street": "1 Gate St\nFlat 3"}


def test_a_street_line_change_sends_that_line_from_2023_03_21():
    changes = {"street_line_2": "Flat 3"}
    attributes = person_address_attributes(changes, ADDRESS, people_version="2023-03-21")
    assert attributes == {"street_line_2": "Flat 3"}
