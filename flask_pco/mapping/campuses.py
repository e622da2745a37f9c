"""PCO Campus → local-form values (pull only: editing a campus needs an Organization
Administrator, REFERENCE §5.7)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_pco.client.jsonapi import Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.values import required_text, text

__all__ = ["CampusData", "campus_from_resource"]


@dataclass(frozen=True, slots=True)
class CampusData:
    pco_id: str
    name: str
    time_zone: str | None
    city: str | None
    state: str | None

    def values(self) -> dict[str, str | None]:
        """The campus's fields by logical name (``roles.ROLE_FIELDS["campus"]``)."""
        return {
            "name": self.name,
            "time_zone": self.time_zone,
            "city": self.city,
            "state": self.state,
        }


def campus_from_resource(resource: Resource) -> CampusData:
    if resource.type != "Campus":
        raise DocumentError(f"expected a Campus, got {resource.type} {resource.id}")
    return CampusData(
        pco_id=resource.id,
        name=required_text(resource, "name"),
        time_zone=text(resource, "time_zone"),
        city=text(resource, "city"),
        state=text(resource, "state"),
    )
