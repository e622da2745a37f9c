from __future__ import annotations

from datetime import datetime

import pytest

from flask_pco.client.jsonapi import parse_document
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.calendar import (
    EventData,
    LocationData,
    event_from_instance,
    location_from_resource,
)
from flask_pco.mapping.groups import (
    GroupData,
    MembershipData,
    group_from_resource,
    group_type_from_resource,
    membership_from_resource,
)
from flask_pco.mapping.households import HouseholdData, household_from_resource

from .conftest import example, ref, resource


def one(raw):
    return parse_document({"data": [raw]}).data[0]


def test_household_example_maps_members_and_primary_contact():
    household = household_from_resource(example("household_resource.json").data[0])
    assert household == HouseholdData(
        "81000501",
        "Newcomer Household",
        ("90000104", "90000105"),
        "90000104",
        datetime(2025, 3, 15, 10, 5),
    )


def test_household_without_its_people_relationship_is_malformed():
    with pytest.raises(DocumentError, match="include=people"):
        household_from_resource(one(resource("Household", "1", name="A")))


def test_household_without_a_name_is_malformed():
    with pytest.raises(DocumentError, match="name"):
        household_from_resource(one(resource("Household", "1", {"people": []}, name=" ")))


def test_household_member_ids_are_deduplicated():
    household = household_from_resource(
        one(
            resource(
                "Household", "1", {"people": [ref("Person", "5"), ref("Person", "5")]}, name="A"
            )
        )
    )
    assert household.member_ids == ("5",)


def test_group_example_prefers_plain_text_description():
    assert group_from_resource(example("group_resource.json").data[0]) == GroupData(
        "1500001", "Tuesday Study", "Tuesday night study", "120001", memberships_count=2
    )


def test_a_group_count_pco_does_not_give_as_a_number_is_unknown():
    group = one(resource("Group", "7", name="Study", memberships_count="2"))

    assert group_from_resource(group).memberships_count is None


def test_group_type_maps_name_and_description():
    group_type = group_type_from_resource(
        one(resource("GroupType", "7", name="Small Groups", description="Weekly"))
    )
    assert (group_type.pco_id, group_type.name, group_type.description) == (
        "7",
        "Small Groups",
        "Weekly",
    )


def test_membership_roles_become_is_leader():
    leader, member = (
        membership_from_resource(r) for r in example("groups_memberships_list.json").data
    )
    assert leader == MembershipData("3300001", "1500001", "90000101", True)
    assert member.is_leader is False


def test_membership_takes_the_listing_group_when_the_record_omits_it():
    membership = membership_from_resource(
        one(resource("Membership", "3", {"person": ref("Person", "9")}, role="member")),
        group_id="44",
    )
    assert membership.group_id == "44"


@pytest.mark.parametrize("role", ["coach", None])
def test_membership_with_an_unknown_role_is_malformed(role):
    with pytest.raises(DocumentError, match="role"):
        membership_from_resource(
            one(resource("Membership", "3", {"person": ref("Person", "9")}, role=role)), "1"
        )


def test_event_instance_example_maps_times_and_name():
    document = example("calendar_event_instances.json")
    assert event_from_instance(document.data[0], document) == EventData(
        "31000501", "Sunday Gathering", datetime(2025, 3, 23, 15), datetime(2025, 3, 23, 17)
    )


def test_event_instance_without_name_uses_the_included_event():
    document = parse_document(
        {
            "data": [resource("EventInstance", "1", {"event": ref("Event", "2")}, starts_at=None)],
            "included": [resource("Event", "2", name="Picnic")],
        }
    )
    assert event_from_instance(document.data[0], document).name == "Picnic"


def test_event_instance_without_any_name_is_malformed():
    with pytest.raises(DocumentError, match="no name"):
        event_from_instance(one(resource("EventInstance", "1")))


def test_location_maps_name():
    assert location_from_resource(
        one(resource("Location", "5", name="Room 1", kind="Room"))
    ) == LocationData("5", "Room 1")


def test_wrong_types_are_refused():
    with pytest.raises(DocumentError):
        location_from_resource(one(resource("Group", "5", name="x")))
