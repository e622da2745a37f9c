"""PCO Calendar event instances and Check-Ins locations → local-form values (pull only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import parse_datetime, required_text, text

__all__ = ["EventData", "LocationData", "event_from_instance", "location_from_resource"]


@dataclass(frozen=True, slots=True)
class EventData:
    #: The EventInstance id: each occurrence is one local event.
    pco_id: str
    name: str
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class LocationData:
    pco_id: str
    name: str


def event_from_instance(resource: Resource, document: Document | None = None) -> EventData:
    """An EventInstance; its name is its own (newer versions) or its included Event's."""
    if resource.type != "EventInstance":
        raise DocumentError(f"expected an EventInstance, got {resource.type} {resource.id}")
    events = document.related(resource, "event") if document is not None else []
    name = text(resource, "name") or (text(events[0], "name") if events else None)
    if not name:
        raise DocumentError(f"EventInstance {resource.id} has no name and no included Event")
    return EventData(
        pco_id=resource.id,
        name=name,
        starts_at=parse_datetime(resource, "starts_at"),
        ends_at=parse_datetime(resource, "ends_at"),
    )


def location_from_resource(resource: Resource) -> LocationData:
    if resource.type != "Location":
        raise DocumentError(f"expected a Location, got {resource.type} {resource.id}")
    return LocationData(resource.id, required_text(resource, "name"))
