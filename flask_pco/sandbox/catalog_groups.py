"""Groups app resources (REFERENCE §5.9) as table entries; the API is read-only except memberships."""

from __future__ import annotations

from flask_pco.sandbox.specs import Relation, ResourceSpec, fields, names, sub_links

GROUP_TYPE = ResourceSpec(
    table="GroupType",
    type="GroupType",
    self_path="/groups/v2/group_types/{id}",
    attributes={
        **fields("name description color default_group_settings public_church_center_web_url"),
        **fields("church_center_visible church_center_map_visible", True),
        "position": 0,
    },
    relations={"groups": Relation("Group", "many", "group_type_id")},
    links=sub_links("groups"),
    can_query_by=("name",),
    can_order_by=("name", "position"),
    can_filter=("church_center_visible", "not_church_center_visible"),
)

GROUP = ResourceSpec(
    table="Group",
    type="Group",
    self_path="/groups/v2/groups/{id}",
    attributes={
        **fields(
            "archived_at contact_email created_at description description_as_plain_text "
            "header_image name public_church_center_web_url schedule virtual_location_url"
        ),
        **fields("chat_enabled events_listed listed", True),
        **fields("leaders_can_search_people_database members_are_confidential", False),
        "events_visibility": "members",
        "location_type_preference": "physical",
        "memberships_count": 0,
    },
    types={"archived_at": "date_time"},
    relations={
        "group_type": Relation("GroupType", "one", "group_type_id", builtin=True),
        "location": Relation("GroupLocation", "one", "location_id", builtin=True),
        "memberships": Relation("Membership", "many", "group_id"),
    },
    links={
        **sub_links("memberships", "events", "people"),
        "group_type": "/groups/v2/group_types/{group_type_id}",
    },
    can_include=("enrollment", "group_type", "location"),
    can_query_by=("archive_status", "name"),
    can_order_by=("name",),
    can_filter=names(
        "campus enrollment group group_type hidden meeting_schedule my_groups "
        "people_database_searchable published tag"
    ),
)

GROUP_LOCATION = ResourceSpec(
    table="GroupLocation",
    type="Location",
    self_path="/groups/v2/locations/{id}",
    attributes=fields("name display_preference full_formatted_address latitude longitude"),
)

MEMBERSHIP = ResourceSpec(
    table="Membership",
    type="Membership",
    self_path="/groups/v2/groups/{group_id}/memberships/{id}",
    attributes={"joined_at": None, "role": "member"},
    types={"joined_at": "date_time"},
    relations={
        "group": Relation("Group", "one", "group_id", builtin=True),
        "person": Relation("GroupsPerson", "one", "person_id", builtin=True),
    },
    links={"group": "/groups/v2/groups/{group_id}", "person": "/groups/v2/people/{person_id}"},
    can_include=("person",),
    can_query_by=("role",),
    can_order_by=("first_name", "joined_at", "last_name", "role"),
    create=frozenset({"person_id", "role", "joined_at"}),
    update=frozenset({"role", "joined_at"}),
    required=("person_id",),
    extra_indexes=("person_id",),
)


GROUPS_PERSON = ResourceSpec(
    name="GroupsPerson",
    table="Person",
    type="Person",
    self_path="/groups/v2/people/{id}",
    attributes=fields(
        "addresses avatar_url created_at email_addresses first_name last_name permissions "
        "phone_numbers"
    ),
)

GROUPS_SPECS = (GROUP_TYPE, GROUP, GROUP_LOCATION, MEMBERSHIP, GROUPS_PERSON)
