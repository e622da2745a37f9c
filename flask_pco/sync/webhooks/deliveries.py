"""PCO's webhook body, the ``EventDelivery`` envelope, parsed into frozen dataclasses.

The body is ``{"data": [EventDelivery, ...]}`` and each delivery's ``attributes.payload`` is a
*string* holding a whole JSON:API document (REFERENCE §6.3). Anything else is refused with a
``DeliveryFormatError`` naming what is wrong, before anything is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from flask_pco.client.jsonapi import Resource, parse_document
from flask_pco.exceptions import DocumentError

__all__ = [
    "EVENT_NAME",
    "DeliveryFormatError",
    "EventDelivery",
    "parse_deliveries",
    "parse_payload",
    "parse_timestamp",
]

#: ``{app}.v2.events.{resource}.{action}``, as in ``people.v2.events.person_merger.created``.
EVENT_NAME = re.compile(
    r"^(?P<app>[a-z_]+)\.v2\.events\.(?P<resource>[a-z_]+)\.(?P<action>[a-z_]+)$"
)
#: The widest of each stored field (``pco_webhook_delivery``): longer is not PCO's, and would
#: fail the insert on PostgreSQL.
MAX_NAME = 120
MAX_EVENT_ID = 64
#: PCO tries a delivery a few dozen times at most; a larger number is not PCO's.
MAX_ATTEMPT = 10_000
#: Event ids (UUIDs), organisation ids and resource ids: printable, no separator or control
#: character that could end up in a URL path or a database error.
TOKEN = re.compile(r"^[A-Za-z0-9_.:-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ORGANIZATION_ID = 40
MAX_RESOURCE_TYPE = 40
MAX_RESOURCE_ID = 64


class DeliveryFormatError(DocumentError):
    """The webhook body is not PCO's EventDelivery envelope; nothing was stored."""


@dataclass(frozen=True, slots=True)
class EventDelivery:
    """One ``EventDelivery`` of a webhook body, with its payload document parsed."""

    event_id: str
    name: str
    attempt: int
    organization_id: str | None
    #: The payload JSON string exactly as PCO sent it; stored verbatim.
    payload: str
    #: The payload's primary resource (a destroy carries no attributes).
    resource: Resource
    #: When the change happened in PCO: ``meta.event_time``, else the delivery header.
    event_time: datetime | None

    @property
    def resource_name(self) -> str:
        """The resource part of the event name: ``person``, ``email``, ``person_merger``..."""
        return _name_part(self.name, "resource")

    @property
    def action(self) -> str:
        """The action part of the event name: ``created``, ``updated``, ``destroyed``..."""
        return _name_part(self.name, "action")


def _name_part(name: str, part: str) -> str:
    match = EVENT_NAME.match(name)
    return match.group(part) if match else ""


def parse_deliveries(raw: bytes, event_time_header: str | None = None) -> tuple[EventDelivery, ...]:
    """Parse a webhook body; raise ``DeliveryFormatError`` saying what is wrong with it.

    The header's event time is used only for a single-delivery body, the only case where it is
    unambiguous which delivery it belongs to.
    """
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise DeliveryFormatError("the body is not JSON") from None
    except RecursionError:
        raise DeliveryFormatError("the body is nested too deeply") from None
    items = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not items:
        raise DeliveryFormatError("the body must be an object whose 'data' is a non-empty list")
    fallback = parse_timestamp(event_time_header) if len(items) == 1 else None
    return tuple(_parse_delivery(index, item, fallback) for index, item in enumerate(items))


def _parse_delivery(index: int, item: Any, fallback_time: datetime | None) -> EventDelivery:
    where = f"data[{index}]"
    if not isinstance(item, Mapping) or item.get("type") != "EventDelivery":
        raise DeliveryFormatError(f"{where} is not an EventDelivery object")
    event_id, attributes = item.get("id"), item.get("attributes")
    if not _token(event_id, MAX_EVENT_ID):
        raise DeliveryFormatError(f"{where} has no usable event id")
    if not isinstance(attributes, Mapping):
        raise DeliveryFormatError(f"{where} has no attributes")
    name, attempt, payload = (attributes.get(k) for k in ("name", "attempt", "payload"))
    if not isinstance(name, str) or len(name) > MAX_NAME or not EVENT_NAME.match(name):
        raise DeliveryFormatError(
            f"{where} has no event name like 'people.v2.events.person.created'"
        )
    if attempt is None:
        attempt = 1
    if not isinstance(attempt, int) or isinstance(attempt, bool) or not 0 < attempt <= MAX_ATTEMPT:
        raise DeliveryFormatError(f"{where} has an invalid attempt number")
    if not isinstance(payload, str):
        raise DeliveryFormatError(f"{where}: 'payload' must be a JSON string")
    resource, meta = parse_payload(payload, where)
    organization_id = _organization_id(item)
    if organization_id is not None and not _token(organization_id, MAX_ORGANIZATION_ID):
        raise DeliveryFormatError(f"{where} has an unusable organization id")
    return EventDelivery(
        event_id=event_id,
        name=name,
        attempt=attempt,
        organization_id=organization_id,
        payload=payload,
        resource=resource,
        event_time=parse_timestamp(meta.get("event_time")) or fallback_time,
    )


def parse_payload(payload: str, where: str = "payload") -> tuple[Resource, Mapping[str, Any]]:
    """The primary resource and ``meta`` of a payload string holding one JSON:API document."""
    try:
        document = parse_document(json.loads(payload))
    except (ValueError, DocumentError) as error:
        raise DeliveryFormatError(
            f"{where}: the payload is not a JSON:API document ({error})"
        ) from None
    except RecursionError:
        raise DeliveryFormatError(f"{where}: the payload is nested too deeply") from None
    if len(document.data) != 1:
        raise DeliveryFormatError(f"{where}: the payload document must hold exactly one resource")
    resource = document.data[0]
    if not _token(resource.type, MAX_RESOURCE_TYPE) or not _storable(resource.id, MAX_RESOURCE_ID):
        raise DeliveryFormatError(f"{where}: the payload's resource has an unusable type or id")
    return resource, document.meta


def _storable(value: object, longest: int) -> TypeGuard[str]:
    """Text a table can keep: no control character (PostgreSQL refuses NUL), not too long.
    Whether it is a PCO id is the handler's question: an odd one is stored and ignored with a
    note, since PCO retries (and in the end deactivates the subscription on) any refusal."""
    return isinstance(value, str) and 0 < len(value) <= longest and not _CONTROL.search(value)


def _token(value: object, longest: int) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= longest and bool(TOKEN.match(value))


def _organization_id(item: Mapping[str, Any]) -> str | None:
    relationships = item.get("relationships")
    organization = relationships.get("organization") if isinstance(relationships, Mapping) else None
    data = organization.get("data") if isinstance(organization, Mapping) else None
    value = data.get("id") if isinstance(data, Mapping) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def parse_timestamp(value: Any) -> datetime | None:
    """A PCO ISO timestamp as naive UTC (the form every table stores), or None if unusable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
