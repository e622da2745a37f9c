"""Check-Ins, Calendar and Webhooks resources (REFERENCE §5.10-5.11, §6) as table entries."""

from __future__ import annotations

from dataclasses import replace

from flask_pco.sandbox.specs import Relation, ResourceSpec, fields, names, sub_links

CHECK_IN_EVENT = ResourceSpec(
    table="CheckInEvent",
    type="Event",
    self_path="/check-ins/v2/events/{id}",
    attributes={
        **fields("archived_at created_at frequency integration_key name updated_at"),
        **fields("enable_services_integration location_times_enabled pre_select_enabled", False),
    },
    types={"archived_at": "date_time"},
    relations={
        "locations": Relation("Location", "many", "event_id"),
        "check_ins": Relation("CheckIn", "many", "event_id"),
    },
    links=sub_links("locations", "check_ins"),
    can_include=("attendance_types",),
    can_query_by=("id", "name"),
    can_order_by=("created_at", "name", "updated_at"),
    can_filter=("archived", "not_archived", "for_headcounts"),
)

LOCATION = ResourceSpec(
    table="Location",
    type="Location",
    self_path="/check-ins/v2/locations/{id}",
    attributes={
        **fields(
            "age_max_in_months age_min_in_months age_on age_range_by attendees_per_volunteer "
            "child_or_adult created_at effective_date gender grade_max grade_min max_occupancy "
            "milestone min_volunteers name questions updated_at"
        ),
        "kind": "Location",
        "opened": True,
        "position": 0,
    },
    relations={
        "parent": Relation("Location", "one", "parent_id", builtin=True),
        "event": Relation("CheckInEvent", "one", "event_id"),
    },
    can_include=("event", "locations", "options", "parent"),
    can_order_by=("kind", "name", "position"),
    can_filter=("root", "locations"),
)

STATION = ResourceSpec(
    table="Station",
    type="Station",
    self_path="/check-ins/v2/stations/{id}",
    attributes={
        **fields("created_at name updated_at"),
        "input_type": "scanner",
        "input_type_options": "all_input_types",
        "mode": 0,
        "timeout_seconds": 60,
    },
    relations={"event": Relation("CheckInEvent", "one", "event_id")},
    can_include=("event", "location", "print_station", "theme"),
    can_order_by=("created_at", "name", "updated_at"),
)

LABEL = ResourceSpec(
    table="Label",
    type="Label",
    self_path="/check-ins/v2/labels/{id}",
    attributes={**fields("created_at name prints_for roll updated_at xml")},
    can_query_by=("name",),
    can_order_by=("name",),
)

CHECK_IN = ResourceSpec(
    table="CheckIn",
    type="CheckIn",
    self_path="/check-ins/v2/check_ins/{id}",
    attributes={
        **fields(
            "checked_out_at confirmed_at created_at emergency_contact_name "
            "emergency_contact_phone_number first_name kind last_name medical_notes number "
            "security_code updated_at"
        ),
        "one_time_guest": False,
    },
    types={"checked_out_at": "date_time", "confirmed_at": "date_time"},
    relations={
        "event_period": Relation("EventPeriod", "one", "event_period_id", builtin=True),
        "person": Relation("Person", "one", "person_id", builtin=True),
        "event": Relation("CheckInEvent", "one", "event_id", builtin=True),
        "locations": Relation(
            "Location", "through", "check_in_id", "CheckInLocation", "location_id"
        ),
    },
    can_include=names(
        "check_in_times checked_in_at checked_in_by checked_out_by event event_period "
        "event_times locations options person"
    ),
    can_query_by=("account_center_person_id", "created_at", "security_code", "updated_at"),
    can_order_by=(
        "checked_out_at",
        "created_at",
        "first_name",
        "last_name",
        "number",
        "updated_at",
    ),
    can_filter=names(
        "attendee checked_out first_time guest not_checked_out not_one_time_guest "
        "one_time_guest regular volunteer"
    ),
)

CHECK_IN_LOCATION = ResourceSpec(
    table="CheckInLocation", type="CheckInLocation", self_path="/_none/{id}", attributes={}
)

HEADCOUNT = ResourceSpec(
    table="Headcount",
    type="Headcount",
    self_path="/check-ins/v2/headcounts/{id}",
    attributes={**fields("created_at updated_at"), "total": 0},
    relations={
        "event_time": Relation("EventTime", "one", "event_time_id", builtin=True),
        "attendance_type": Relation("AttendanceType", "one", "attendance_type_id", builtin=True),
    },
    can_include=("attendance_type", "event_time"),
    can_query_by=("created_at", "updated_at"),
    can_order_by=("created_at", "total", "updated_at"),
)

_EVENT = {"event": Relation("CheckInEvent", "one", "event_id", builtin=True)}
_COUNTS = fields("guest_count regular_count volunteer_count", 0)

EVENT_PERIOD = ResourceSpec(
    table="EventPeriod",
    type="EventPeriod",
    self_path="/check-ins/v2/event_periods/{id}",
    attributes={**fields("created_at ends_at note starts_at updated_at"), **_COUNTS},
    types={"starts_at": "date_time", "ends_at": "date_time"},
    relations=_EVENT,
)

EVENT_TIME = ResourceSpec(
    table="EventTime",
    type="EventTime",
    self_path="/check-ins/v2/event_times/{id}",
    attributes={
        **fields("created_at day_of_week hides_at hour minute name shows_at starts_at updated_at"),
        **_COUNTS,
        "total_count": 0,
    },
    types={"starts_at": "date_time"},
    relations={**_EVENT, "headcounts": Relation("Headcount", "many", "event_time_id")},
    links=sub_links("headcounts"),
)

ATTENDANCE_TYPE = ResourceSpec(
    table="AttendanceType",
    type="AttendanceType",
    self_path="/check-ins/v2/attendance_types/{id}",
    attributes={**fields("color created_at limit name updated_at")},
    relations=_EVENT,
)

CALENDAR_EVENT = ResourceSpec(
    table="CalendarEvent",
    type="Event",
    self_path="/calendar/v2/events/{id}",
    attributes={
        **fields("created_at description image_url name registration_url summary updated_at"),
        "approval_status": "A",
        "featured": False,
        "percent_approved": 100,
        "percent_rejected": 0,
        "visible_in_church_center": True,
    },
    relations={
        "owner": Relation("Person", "one", "owner_id", builtin=True),
        "event_instances": Relation("EventInstance", "many", "event_id"),
    },
    links=sub_links("event_instances"),
    can_include=("attachments", "feed", "owner", "tags"),
    can_query_by=names(
        "approval_status created_at featured name percent_approved percent_rejected "
        "updated_at visible_in_church_center"
    ),
    can_order_by=("created_at", "name", "updated_at"),
    can_filter=("future",),
)

EVENT_INSTANCE = ResourceSpec(
    table="EventInstance",
    type="EventInstance",
    self_path="/calendar/v2/event_instances/{id}",
    attributes={
        **fields(
            "church_center_url compact_recurrence_description created_at ends_at location name "
            "published_ends_at published_starts_at recurrence recurrence_description starts_at "
            "updated_at"
        ),
        "all_day_event": False,
    },
    types={"starts_at": "date_time", "ends_at": "date_time"},
    relations={"event": Relation("CalendarEvent", "one", "event_id", builtin=True)},
    links=sub_links("event_times"),
    can_include=("event", "event_times", "resource_bookings", "tags"),
    can_query_by=("created_at", "ends_at", "starts_at", "updated_at"),
    can_order_by=("created_at", "ends_at", "starts_at", "updated_at"),
    can_filter=("approved", "future", "past", "pending", "rejected"),
)

SUBSCRIPTION = ResourceSpec(
    table="Subscription",
    type="Subscription",
    self_path="/webhooks/v2/subscriptions/{id}",
    attributes={
        **fields("application_id authenticity_secret created_at name updated_at url"),
        "active": True,
    },
    types={"active": "boolean"},
    links=sub_links("events", "rotate_secret"),
    can_query_by=("application_id",),
    create=frozenset({"name", "url", "active"}),
    update=frozenset({"active"}),
    required=("name", "url"),
    extra_indexes=("name",),
)
#: Webhooks 2022-10-20 renamed the path and the type; the records are the same.
WEBHOOK_SUBSCRIPTION = replace(
    SUBSCRIPTION,
    name="WebhookSubscription",
    type="WebhookSubscription",
    self_path="/webhooks/v2/webhook_subscriptions/{id}",
)

AVAILABLE_EVENT = ResourceSpec(
    table="AvailableEvent",
    type="AvailableEvent",
    self_path="/webhooks/v2/available_events/{id}",
    attributes=fields("action app name resource type version"),
    can_query_by=("app", "name"),
)

OTHER_SPECS = (
    CHECK_IN_EVENT,
    LOCATION,
    STATION,
    LABEL,
    CHECK_IN,
    CHECK_IN_LOCATION,
    HEADCOUNT,
    EVENT_PERIOD,
    EVENT_TIME,
    ATTENDANCE_TYPE,
    CALENDAR_EVENT,
    EVENT_INSTANCE,
    SUBSCRIPTION,
    WEBHOOK_SUBSCRIPTION,
    AVAILABLE_EVENT,
)
