"""PCO Check-Ins, Calendar and Groups records as small frozen rows for the read-only views.

The admin page and ``/api/pco/...`` show PCO's data next to the local copy so an admin can verify
a sync; nothing here writes anywhere. Each ``ReadOnlyView`` names the PCO listing it reads (path,
include, order, filter) and the pure function that turns one resource into a row, so adding a view
is one table entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_pco.client.jsonapi import Document, Resource

__all__ = [
    "VIEWS",
    "CalendarEventInstance",
    "CheckIn",
    "CheckInEvent",
    "CheckInLocation",
    "GroupType",
    "Headcount",
    "Label",
    "ReadOnlyView",
    "Station",
    "parse_timestamp",
    "row_to_json",
]


def parse_timestamp(value: Any) -> datetime | None:
    """PCO's ISO 8601 timestamp (``...Z``) as an aware datetime; anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(resource: Resource, name: str) -> str:
    value = resource.get(name)
    return "" if value is None else str(value).strip()


def _related_name(document: Document, resource: Resource, relationship: str) -> str:
    related = document.related(resource, relationship)
    return _text(related[0], "name") if related else ""


@dataclass(frozen=True, slots=True)
class CheckIn:
    id: str
    name: str
    security_code: str
    kind: str
    event: str
    created_at: datetime | None
    checked_out_at: datetime | None


@dataclass(frozen=True, slots=True)
class CheckInEvent:
    id: str
    name: str
    frequency: str
    archived: bool
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class CheckInLocation:
    id: str
    name: str
    kind: str
    event: str
    age_range: str
    grade_range: str
    max_occupancy: int | None


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    name: str
    input_type: str
    timeout_seconds: int | None


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str
    prints_for: str
    roll: str


@dataclass(frozen=True, slots=True)
class Headcount:
    id: str
    total: int
    attendance_type: str
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class CalendarEventInstance:
    id: str
    name: str
    description: str
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    recurrence: str
    location: str


@dataclass(frozen=True, slots=True)
class GroupType:
    id: str
    name: str
    description: str
    church_center_visible: bool


def check_in(resource: Resource, document: Document) -> CheckIn:
    full_name = f"{_text(resource, 'first_name')} {_text(resource, 'last_name')}".strip()
    return CheckIn(
        id=resource.id,
        name=full_name,
        security_code=_text(resource, "security_code"),
        kind=_text(resource, "kind"),
        event=_related_name(document, resource, "event"),
        created_at=parse_timestamp(resource.get("created_at")),
        checked_out_at=parse_timestamp(resource.get("checked_out_at")),
    )


def check_in_event(resource: Resource, document: Document) -> CheckInEvent:
    return CheckInEvent(
        id=resource.id,
        name=_text(resource, "name"),
        frequency=_text(resource, "frequency"),
        archived=resource.get("archived_at") is not None,
        created_at=parse_timestamp(resource.get("created_at")),
    )


def _span(low: Any, high: Any, unit: str = "") -> str:
    """``3 to 5 years``, ``from 3``, ``up to 5`` or empty: PCO leaves either end open with null."""
    if low is None and high is None:
        return ""
    if low is None:
        return f"up to {high}{unit}"
    if high is None:
        return f"from {low}{unit}"
    return f"{low} to {high}{unit}"


def _months_as_years(months: Any) -> Any:
    if not isinstance(months, int):
        return None
    return months // 12 if months % 12 == 0 else f"{months / 12:.1f}"


def check_in_location(resource: Resource, document: Document) -> CheckInLocation:
    ages = _span(
        _months_as_years(resource.get("age_min_in_months")),
        _months_as_years(resource.get("age_max_in_months")),
        " years",
    )
    occupancy = resource.get("max_occupancy")
    return CheckInLocation(
        id=resource.id,
        name=_text(resource, "name"),
        kind=_text(resource, "kind"),
        event=_related_name(document, resource, "event"),
        age_range=ages,
        grade_range=_span(resource.get("grade_min"), resource.get("grade_max")),
        max_occupancy=occupancy if isinstance(occupancy, int) else None,
    )


def station(resource: Resource, document: Document) -> Station:
    timeout = resource.get("timeout_seconds")
    return Station(
        id=resource.id,
        name=_text(resource, "name"),
        input_type=_text(resource, "input_type"),
        timeout_seconds=timeout if isinstance(timeout, int) else None,
    )


def label(resource: Resource, document: Document) -> Label:
    return Label(
        id=resource.id,
        name=_text(resource, "name"),
        prints_for=_text(resource, "prints_for"),
        roll=_text(resource, "roll"),
    )


def headcount(resource: Resource, document: Document) -> Headcount:
    total = resource.get("total")
    return Headcount(
        id=resource.id,
        total=total if isinstance(total, int) else 0,
        attendance_type=_related_name(document, resource, "attendance_type"),
        updated_at=parse_timestamp(resource.get("updated_at")),
    )


def calendar_event_instance(resource: Resource, document: Document) -> CalendarEventInstance:
    events = document.related(resource, "event")
    event = events[0] if events else None
    name = _text(resource, "name") or (_text(event, "name") if event else "")
    recurrence = _text(resource, "recurrence_description") or _text(resource, "recurrence")
    return CalendarEventInstance(
        id=resource.id,
        name=name,
        description=_text(event, "summary") if event else "",
        starts_at=parse_timestamp(resource.get("starts_at")),
        ends_at=parse_timestamp(resource.get("ends_at")),
        all_day=bool(resource.get("all_day_event")),
        recurrence=recurrence,
        location=_text(resource, "location"),
    )


def group_type(resource: Resource, document: Document) -> GroupType:
    return GroupType(
        id=resource.id,
        name=_text(resource, "name"),
        description=_text(resource, "description"),
        church_center_visible=bool(resource.get("church_center_visible")),
    )


@dataclass(frozen=True, slots=True)
class ReadOnlyView:
    """One read-only PCO listing: where it lives and how a resource becomes a row."""

    name: str
    title: str
    path: str
    parse: Callable[[Resource, Document], Any]
    row_type: type[Any]
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """The row's fields after ``id``, in declaration order: the table's columns."""
        return tuple(f.name for f in fields(self.row_type) if f.name != "id")


VIEWS: dict[str, ReadOnlyView] = {
    view.name: view
    for view in (
        ReadOnlyView(
            "checkins",
            "Check-ins",
            "/check-ins/v2/check_ins",
            check_in,
            CheckIn,
            {"include": "event", "order": "-created_at"},
        ),
        ReadOnlyView(
            "checkin-events",
            "Check-in events",
            "/check-ins/v2/events",
            check_in_event,
            CheckInEvent,
        ),
        ReadOnlyView(
            "checkin-locations",
            "Check-in locations",
            "/check-ins/v2/locations",
            check_in_location,
            CheckInLocation,
            {"include": "event"},
        ),
        ReadOnlyView("stations", "Stations", "/check-ins/v2/stations", station, Station),
        ReadOnlyView("labels", "Labels", "/check-ins/v2/labels", label, Label),
        ReadOnlyView(
            "headcounts",
            "Headcounts",
            "/check-ins/v2/headcounts",
            headcount,
            Headcount,
            {"include": "attendance_type", "order": "-updated_at"},
        ),
        ReadOnlyView(
            "calendar-events",
            "Calendar",
            "/calendar/v2/event_instances",
            calendar_event_instance,
            CalendarEventInstance,
            {"include": "event", "filter": "future", "order": "starts_at"},
        ),
        ReadOnlyView("group-types", "Group types", "/groups/v2/group_types", group_type, GroupType),
    )
}


def row_to_json(row: Any) -> dict[str, Any]:
    """A row as JSON-ready values: datetimes become ISO 8601 strings."""
    return {f.name: _json_value(getattr(row, f.name)) for f in fields(row)}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value
