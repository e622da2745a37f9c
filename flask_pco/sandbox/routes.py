"""Every PCO URL the sandbox answers, as data: path, resource, verbs and scoping parent.

A verb a resource does not support is answered 404, as PCO's router does for unknown routes
(a recorded PUT got a 404); read-only apps therefore refuse every write with 404.
"""

from __future__ import annotations

from dataclasses import dataclass

WEBHOOKS_RENAMED = "2022-10-20"


@dataclass(frozen=True)
class Route:
    rule: str
    spec: str
    kind: str  # "collection", "member", "singleton" or "action"
    methods: frozenset[str] = frozenset({"GET"})
    #: (parent spec, relation on the parent) for nested URLs such as /people/{id}/emails.
    scope: tuple[str, str] | None = None
    #: [from, until) API versions in which this route exists.
    versions: tuple[str, str] = ("0000-00-00", "9999-99-99")


READ = frozenset({"GET"})
LIST_CREATE = frozenset({"GET", "POST"})
MEMBER_WRITE = frozenset({"GET", "PATCH", "DELETE"})


def resource(
    path: str,
    spec: str,
    collection: frozenset[str] = READ,
    member: frozenset[str] | None = READ,
    scope: tuple[str, str] | None = None,
    versions: tuple[str, str] = ("0000-00-00", "9999-99-99"),
) -> list[Route]:
    """A collection route and (unless ``member`` is None) its member route."""
    routes = [Route(path, spec, "collection", collection, scope, versions)]
    if member is not None:
        routes.append(Route(path + "/<id>", spec, "member", member, scope, versions))
    return routes


def _people_routes() -> list[Route]:
    routes = resource("/people/v2/people", "Person", LIST_CREATE, MEMBER_WRITE)
    for child in ("emails", "phone_numbers", "addresses"):
        spec = {"emails": "Email", "phone_numbers": "PhoneNumber", "addresses": "Address"}[child]
        scope = ("Person", child)
        routes += resource(
            f"/people/v2/people/<parent_id>/{child}", spec, LIST_CREATE, MEMBER_WRITE, scope
        )
        routes += resource(f"/people/v2/{child}", spec, READ, MEMBER_WRITE)
    routes += resource(
        "/people/v2/people/<parent_id>/households", "Household", scope=("Person", "households")
    )
    routes += resource(
        "/people/v2/people/<parent_id>/household_memberships", "HouseholdMembership",
        READ, MEMBER_WRITE, ("Person", "household_memberships"),
    )  # fmt: skip
    routes += resource("/people/v2/households", "Household", LIST_CREATE, MEMBER_WRITE)
    routes += resource(
        "/people/v2/households/<parent_id>/household_memberships", "HouseholdMembership",
        LIST_CREATE, MEMBER_WRITE, ("Household", "household_memberships"),
    )  # fmt: skip
    routes += resource(
        "/people/v2/households/<parent_id>/people", "Person", scope=("Household", "people")
    )
    routes += _field_routes()
    routes += resource("/people/v2/lists", "List")
    routes += resource("/people/v2/lists/<parent_id>/people", "Person", scope=("List", "people"))
    routes += resource("/people/v2/person_mergers", "PersonMerger")
    routes += resource("/people/v2/campuses", "Campus")
    routes.append(Route("/people/v2", "Organization", "singleton"))
    return routes


def _field_routes() -> list[Route]:
    """Custom fields: definitions with their options, and each person's field data."""
    routes = resource("/people/v2/field_definitions", "FieldDefinition")
    routes += resource(
        "/people/v2/field_definitions/<parent_id>/field_options", "FieldOption",
        scope=("FieldDefinition", "field_options"),
    )  # fmt: skip
    routes += resource(
        "/people/v2/people/<parent_id>/field_data", "FieldDatum",
        LIST_CREATE, MEMBER_WRITE, ("Person", "field_data"),
    )  # fmt: skip
    return routes + resource("/people/v2/field_data", "FieldDatum", READ, MEMBER_WRITE)


def _other_routes() -> list[Route]:
    routes = resource("/groups/v2/groups", "Group")
    routes += resource("/groups/v2/group_types", "GroupType")
    routes += resource(
        "/groups/v2/group_types/<parent_id>/groups", "Group", scope=("GroupType", "groups")
    )
    routes += resource(
        "/groups/v2/groups/<parent_id>/memberships", "Membership",
        LIST_CREATE, MEMBER_WRITE, ("Group", "memberships"),
    )  # fmt: skip
    routes += resource("/groups/v2/people", "GroupsPerson")
    for name, spec in (
        ("check_ins", "CheckIn"), ("events", "CheckInEvent"), ("stations", "Station"),
        ("labels", "Label"), ("headcounts", "Headcount"), ("locations", "Location"),
        ("event_periods", "EventPeriod"), ("event_times", "EventTime"),
        ("attendance_types", "AttendanceType"),
    ):  # fmt: skip
        routes += resource(f"/check-ins/v2/{name}", spec)
    routes += resource(
        "/check-ins/v2/events/<parent_id>/locations",
        "Location",
        scope=("CheckInEvent", "locations"),
    )
    routes += resource(
        "/check-ins/v2/events/<parent_id>/check_ins", "CheckIn", scope=("CheckInEvent", "check_ins")
    )
    routes += resource(
        "/check-ins/v2/event_times/<parent_id>/headcounts", "Headcount",
        scope=("EventTime", "headcounts"),
    )  # fmt: skip
    routes += resource("/calendar/v2/events", "CalendarEvent")
    routes += resource("/calendar/v2/event_instances", "EventInstance")
    routes += resource(
        "/calendar/v2/events/<parent_id>/event_instances", "EventInstance",
        scope=("CalendarEvent", "event_instances"),
    )  # fmt: skip
    routes += resource("/webhooks/v2/available_events", "AvailableEvent", member=None)
    return routes + _subscription_routes()


def _subscription_routes() -> list[Route]:
    routes = []
    for path, spec, versions in (
        ("/webhooks/v2/subscriptions", "Subscription", ("0000-00-00", WEBHOOKS_RENAMED)),
        (
            "/webhooks/v2/webhook_subscriptions",
            "WebhookSubscription",
            (WEBHOOKS_RENAMED, "9999-99-99"),
        ),
    ):
        routes += resource(path, spec, LIST_CREATE, MEMBER_WRITE, versions=versions)
        post = frozenset({"POST"})
        routes.append(Route(path + "/<id>/rotate_secret", spec, "action", post, None, versions))
    return routes


ROUTES: list[Route] = _people_routes() + _other_routes()
