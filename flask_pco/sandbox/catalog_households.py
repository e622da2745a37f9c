"""People app: households, lists and person mergers (REFERENCE §5.5-5.8) as table entries."""

from __future__ import annotations

from flask_pco.sandbox.specs import Relation, ResourceSpec, fields, names, sub_links

HOUSEHOLD = ResourceSpec(
    table="Household",
    type="Household",
    self_path="/people/v2/households/{id}",
    attributes={
        **fields("avatar name primary_contact_id primary_contact_name created_at updated_at"),
        "member_count": 0,
    },
    types={"member_count": "integer"},
    relations={
        "primary_contact": Relation("Person", "one", "primary_contact_id", builtin=True),
        "people": Relation(
            "Person", "through", "household_id", "HouseholdMembership", "person_id", builtin=True
        ),
        "household_memberships": Relation("HouseholdMembership", "many", "household_id"),
    },
    links=sub_links("household_memberships", "people"),
    can_include=("people",),
    can_query_by=("created_at", "member_count", "name", "primary_contact_name", "updated_at"),
    can_order_by=("created_at", "member_count", "name", "primary_contact_name", "updated_at"),
    create=frozenset({"name", "member_count", "primary_contact_id", "avatar"}),
    update=frozenset({"name", "member_count", "primary_contact_id", "avatar"}),
)

HOUSEHOLD_MEMBERSHIP = ResourceSpec(
    table="HouseholdMembership",
    type="HouseholdMembership",
    self_path="/people/v2/households/{household_id}/household_memberships/{id}",
    attributes={"person_name": None, "pending": False},
    types={"pending": "boolean"},
    relations={
        "household": Relation("Household", "one", "household_id", builtin=True),
        "person": Relation("Person", "one", "person_id", builtin=True),
    },
    can_include=("household", "person"),
    can_query_by=("pending",),
    create=frozenset({"person_id", "pending"}),
    update=frozenset({"pending"}),
)

_LIST_ATTRS = (
    "auto_refresh_frequency batch_completed_at description name name_or_description refreshed_at "
    "returns status subset created_at updated_at"
)
LIST = ResourceSpec(
    table="List",
    type="List",
    self_path="/people/v2/lists/{id}",
    attributes={
        **fields(_LIST_ATTRS),
        **fields(
            "auto_refresh automations_active has_inactive_results include_inactive invalid "
            "recently_viewed return_original_if_none starred",
            False,
        ),
        **fields("automations_count paused_automations_count total_people", 0),
    },
    relations={"people": Relation("Person", "through", "list_id", "ListResult", "person_id")},
    links=sub_links("people", "run", "list_results"),
    can_include=names(
        "campus category created_by mailchimp_sync_status people rules shares updated_by"
    ),
    can_query_by=("batch_completed_at", "created_at", "id", "name", "updated_at"),
    can_order_by=names(
        "batch_completed_at campus_id created_at list_category_id name "
        "name_or_description updated_at"
    ),
    can_filter=("can_manage", "recently_viewed", "starred", "unassigned"),
)

LIST_RESULT = ResourceSpec(
    table="ListResult",
    type="ListResult",
    self_path="/people/v2/lists/{list_id}/list_results/{id}",
    attributes=fields("created_at updated_at"),
    relations={
        "person": Relation("Person", "one", "person_id", builtin=True),
        "list": Relation("List", "one", "list_id", builtin=True),
    },
    extra_indexes=("person_id",),
)

PERSON_MERGER = ResourceSpec(
    table="PersonMerger",
    type="PersonMerger",
    self_path="/people/v2/person_mergers/{id}",
    attributes=fields("created_at person_to_keep_id person_to_remove_id"),
    relations={
        "person_to_keep": Relation("Person", "one", "person_to_keep_id", builtin=True),
        "person_to_remove": Relation("Person", "one", "person_to_remove_id", builtin=True),
    },
    can_query_by=("created_at", "person_to_keep_id", "person_to_remove_id"),
    can_order_by=("created_at",),
)

HOUSEHOLD_SPECS = (HOUSEHOLD, HOUSEHOLD_MEMBERSHIP, LIST, LIST_RESULT, PERSON_MERGER)
