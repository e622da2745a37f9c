"""People app: people and their contact records, the organization (REFERENCE §5.1-5.4, §5.7)."""

from __future__ import annotations

from flask_pco.sandbox.specs import Relation, ResourceSpec, fields, names, sub_links

PERSON_INCLUDES = names(
    "addresses emails field_data households inactive_reason marital_status name_prefix "
    "name_suffix organization person_apps phone_numbers platform_notifications primary_campus "
    "school social_profiles"
)
PERSON_WRITABLE = frozenset(
    names(
        "first_name last_name middle_name given_name nickname birthdate anniversary gender "
        "gender_id grade graduation_year child status inactivated_at membership medical_notes "
        "remote_id site_administrator accounting_administrator people_permissions avatar "
        "primary_campus_id"
    )
)
PERSON_ORDERABLE = names(
    "accounting_administrator anniversary birthdate child created_at first_name gender "
    "given_name grade graduation_year inactivated_at last_name membership middle_name nickname "
    "people_permissions remote_id site_administrator status updated_at"
)
#: Everything orderable is queryable too, plus ids, medical notes and the search helpers.
PERSON_QUERYABLE = tuple(
    sorted(
        PERSON_ORDERABLE
        + names(
            "id medical_notes primary_campus_id search_name search_name_or_email "
            "search_name_or_email_or_phone_number search_phone_number search_phone_number_e164"
        )
    )
)

PERSON = ResourceSpec(
    table="Person",
    type="Person",
    self_path="/people/v2/people/{id}",
    attributes={
        **fields(
            "anniversary avatar birthdate demographic_avatar_url first_name gender given_name "
            "grade graduation_year inactivated_at last_name login_identifier medical_notes "
            "membership middle_name name nickname people_permissions remote_id school_type "
            "created_at updated_at"
        ),
        **fields(
            "accounting_administrator can_create_forms can_email_lists child "
            "passed_background_check site_administrator",
            False,
        ),
        "directory_status": "no_access",
        "resource_permission_flags": {},
        "status": "active",
    },
    types={
        "birthdate": "date",
        "anniversary": "date",
        "inactivated_at": "date_time",
        "grade": "integer",
        "graduation_year": "integer",
        "remote_id": "integer",
        "child": "boolean",
        "site_administrator": "boolean",
        "accounting_administrator": "boolean",
    },
    relations={
        "primary_campus": Relation("Campus", "one", "primary_campus_id", builtin=True),
        "emails": Relation("Email", "many", "person_id"),
        "phone_numbers": Relation("PhoneNumber", "many", "person_id"),
        "addresses": Relation("Address", "many", "person_id"),
        "households": Relation(
            "Household", "through", "person_id", "HouseholdMembership", "household_id"
        ),
        "household_memberships": Relation("HouseholdMembership", "many", "person_id"),
        "field_data": Relation("FieldDatum", "many", "person_id"),
    },
    links=sub_links(
        "addresses",
        "emails",
        "field_data",
        "household_memberships",
        "households",
        "phone_numbers",
        "organization",
    ),
    can_include=PERSON_INCLUDES,
    can_query_by=PERSON_QUERYABLE,
    can_order_by=PERSON_ORDERABLE,
    can_filter=("admins", "created_since", "organization_admins"),
    create=PERSON_WRITABLE,
    update=PERSON_WRITABLE,
    required=("first_name",),
    extra_indexes=("remote_id",),
)

_PERSON_OWNER = {"person": Relation("Person", "one", "person_id", builtin=True)}

EMAIL = ResourceSpec(
    table="Email",
    type="Email",
    self_path="/people/v2/emails/{id}",
    attributes={
        **fields("address location created_at updated_at"),
        "blocked": False,
        "primary": False,
    },
    types={"primary": "boolean", "blocked": "boolean"},
    relations=_PERSON_OWNER,
    can_query_by=("address", "blocked", "created_at", "location", "primary", "updated_at"),
    can_order_by=("address", "created_at", "location", "primary", "updated_at"),
    create=frozenset({"address", "location", "primary"}),
    update=frozenset({"address", "location", "primary"}),
    required=("address",),
    extra_indexes=("address",),
)

PHONE_NUMBER = ResourceSpec(
    table="PhoneNumber",
    type="PhoneNumber",
    self_path="/people/v2/phone_numbers/{id}",
    attributes={
        **fields("carrier country_code e164 international location national number"),
        **fields("created_at updated_at"),
        "primary": False,
    },
    types={"primary": "boolean"},
    relations=_PERSON_OWNER,
    can_query_by=("carrier", "created_at", "location", "number", "primary", "updated_at"),
    can_order_by=("carrier", "created_at", "location", "number", "primary", "updated_at"),
    create=frozenset({"number", "location", "primary", "carrier"}),
    update=frozenset({"number", "location", "primary", "carrier"}),
    required=("number", "location"),
)

_ADDRESS_WRITABLE = frozenset(
    [
        "street_line_1",
        "street_line_2",
        "city",
        "state",
        "zip",
        "country_code",
        "location",
        "primary",
    ]
)

ADDRESS = ResourceSpec(
    table="Address",
    type="Address",
    self_path="/people/v2/addresses/{id}",
    attributes={
        **fields("city country_code country_name location state street_line_1 street_line_2 zip"),
        **fields("created_at updated_at"),
        "primary": False,
    },
    types={"primary": "boolean"},
    relations=_PERSON_OWNER,
    can_query_by=names("city country_code location primary state street_line_1 street_line_2 zip"),
    can_order_by=names(
        "city country_code created_at location primary state street_line_1 street_line_2 "
        "updated_at zip"
    ),
    create=_ADDRESS_WRITABLE,
    update=_ADDRESS_WRITABLE,
)


ORGANIZATION = ResourceSpec(
    table="Organization",
    type="Organization",
    self_path="/people/v2",
    attributes=fields(
        "avatar_url church_center_subdomain contact_website country_code created_at date_format "
        "name time_zone"
    ),
)

CAMPUS = ResourceSpec(
    table="Campus",
    type="Campus",
    self_path="/people/v2/campuses/{id}",
    attributes=fields("name time_zone city state created_at updated_at"),
)

PEOPLE_SPECS = (PERSON, EMAIL, PHONE_NUMBER, ADDRESS, ORGANIZATION, CAMPUS)
