"""PCO Person (with its included emails, phone numbers and addresses) → local-form values.

Pure functions: a ``Resource`` and the ``Document`` it came in go in, a frozen ``PersonData``
comes out, ready for matching and upserting. Values are in the form the local tables keep:
phones in E.164, gender as ``"M"``/``"F"``, dates as ``date``, timestamps as naive UTC.

A record whose shape is wrong raises ``DocumentError`` (the sync skips that one person). A
contact that cannot be used (a phone number no parser understands, an email without an
address) is dropped and its reason kept in ``PersonData.problems``: a bad phone number must not
cost the church the whole person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError
from flask_pco.mapping.custom_fields import FieldDefinition, custom_values
from flask_pco.mapping.person_fields import read_person_fields
from flask_pco.mapping.phones import Country, to_e164
from flask_pco.mapping.values import optional_int, parse_date, parse_datetime, text

__all__ = [
    "AddressData",
    "EmailData",
    "PersonData",
    "PhoneData",
    "normalize_gender",
    "person_from_resource",
]

#: An ISO country code, or a function that returns it when first needed.

_OTHER_NAMES = ("nickname", "given_name")
_GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}


@dataclass(frozen=True, slots=True)
class EmailData:
    address: str
    is_primary: bool
    pco_id: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneData:
    #: E.164, for example ``+15550102345``.
    e164: str
    #: PCO's location label ("Mobile", "Home", ...), kept as the local ``kind``.
    kind: str | None
    is_primary: bool
    pco_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddressData:
    street: str | None
    city: str | None
    state: str | None
    zip: str | None
    is_primary: bool
    pco_id: str | None = None
    street_line_1: str | None = None
    street_line_2: str | None = None
    #: PCO's label: "Home", "Work", "Other".
    location: str | None = None

    def as_person_address(self) -> dict[str, Any]:
        """The address in the form a host's person-address rows store it."""
        return {
            "street_line_1": self.street_line_1,
            "street_line_2": self.street_line_2,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "location": self.location,
            "is_primary": self.is_primary,
        }

    def as_family_fields(self) -> dict[str, str | None]:
        """The address in the form ``families`` stores it."""
        return {"street": self.street, "city": self.city, "state": self.state, "zip": self.zip}


@dataclass(frozen=True, slots=True)
class PersonData:
    pco_id: str
    first_name: str
    last_name: str
    gender: str | None
    dob: date | None
    child: bool
    is_active: bool
    #: PCO's ``updated_at``, naive UTC.
    updated_at: datetime | None
    #: Our ``people.id`` when our push created the PCO record (PCO's ``remote_id``).
    remote_id: int | None = None
    emails: tuple[EmailData, ...] = ()
    phones: tuple[PhoneData, ...] = ()
    addresses: tuple[AddressData, ...] = ()
    #: Why contacts were dropped ("phone '12' is not a phone number"), for the sync log.
    problems: tuple[str, ...] = ()
    #: PCO's ``nickname`` and ``given_name``: the names a site may know the person by.
    other_names: tuple[str, ...] = ()
    #: The host's custom fields by logical name; None when PCO's answer held no field data.
    custom: Mapping[str, Any] | None = None
    #: Why custom values were dropped ("'abc' is not a number"), for the sync log.
    field_problems: tuple[str, ...] = ()
    #: The optional fields PCO sent (``person_fields.PERSON_FIELDS``), as (name, value) pairs.
    more: tuple[tuple[str, Any], ...] = ()

    @property
    def primary_address(self) -> AddressData | None:
        """The address PCO marks primary, else the first one."""
        return next((a for a in self.addresses if a.is_primary), None) or (
            self.addresses[0] if self.addresses else None
        )

    def demographics(self) -> dict[str, Any]:
        """The person fields PCO sent, by logical name: those of ``policy.PCO_OWNED`` and the
        optional ones of ``person_fields`` (the sync keeps only those the host has columns for)."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "gender": self.gender,
            "dob": self.dob,
            "child": self.child,
            "is_active": self.is_active,
            **(self.custom or {}),
            **dict(self.more),
        }


def person_from_resource(
    resource: Resource,
    document: Document | None = None,
    *,
    country: Country = "US",
    custom_fields: Mapping[str, FieldDefinition] | None = None,
) -> PersonData:
    """Map one PCO Person; ``document`` supplies the included contacts (none without it).

    ``country`` is the organisation's ISO country for numbers PCO sent without ``e164``, or a
    function returning it (called only then: looking it up costs a request).
    ``custom_fields``: the host's custom fields (logical name → definition), read from the
    included field data.
    """
    if resource.type != "Person":
        raise DocumentError(f"expected a Person, got {resource.type} {resource.id}")
    first = text(resource, "first_name")
    last = text(resource, "last_name")
    if not first and not last:
        raise DocumentError(f"Person {resource.id} has neither a first nor a last name")
    problems: list[str] = []
    related = document.related if document is not None else (lambda _r, _n: [])
    phones = tuple(_phones(related(resource, "phone_numbers"), country, problems))
    custom, field_problems = (
        custom_values(resource, document, custom_fields)
        if custom_fields and document is not None
        else (None, [])
    )
    return PersonData(
        pco_id=resource.id,
        first_name=first or "",
        last_name=last or "",
        gender=normalize_gender(resource.get("gender")),
        dob=parse_date(resource, "birthdate"),
        child=bool(resource.get("child")),
        is_active=_is_active(resource),
        updated_at=parse_datetime(resource, "updated_at"),
        remote_id=optional_int(resource, "remote_id"),
        emails=tuple(_emails(related(resource, "emails"), problems)),
        phones=phones,
        addresses=tuple(_address(a) for a in related(resource, "addresses")),
        other_names=tuple(n for n in (text(resource, k) for k in _OTHER_NAMES) if n),
        custom=custom,
        field_problems=tuple(field_problems),
        more=tuple(read_person_fields(resource, document, problems).items()),
        problems=tuple(problems),
    )


def normalize_gender(value: Any) -> str | None:
    """``"M"``/``"Male"`` → ``"M"``, ``"F"``/``"Female"`` → ``"F"``; other labels kept as sent."""
    if isinstance(value, str):
        value = value.replace("\x00", "")
    if not isinstance(value, str) or not value.strip():
        return None
    return _GENDERS.get(value.strip().lower(), value.strip())


def _is_active(resource: Resource) -> bool:
    status = resource.get("status")
    if isinstance(status, str) and status.strip().lower() == "inactive":
        return False
    return not resource.get("inactivated_at")


def _emails(records: Iterable[Resource], problems: list[str]) -> Iterable[EmailData]:
    for record in records:
        address = text(record, "address")
        if not address or "@" not in address:
            problems.append(f"email {record.id}: {address!r} is not an email address")
            continue
        yield EmailData(address, bool(record.get("primary")), record.id)


def _phones(
    records: Iterable[Resource], country: Country, problems: list[str]
) -> Iterable[PhoneData]:
    for record in records:
        try:
            e164 = to_e164(record.get("number"), e164=record.get("e164"), country=country)
        except ValueError as error:
            problems.append(f"phone {record.id}: {error}")
            continue
        yield PhoneData(e164, text(record, "location"), bool(record.get("primary")), record.id)


def _address(record: Resource) -> AddressData:
    # Versions before 2023-03-21 send one ``street`` with the lines separated by newlines.
    lines: list[str | None] = [text(record, "street_line_1"), text(record, "street_line_2")]
    if not any(lines):
        lines = list((text(record, "street") or "").splitlines())
    kept = [line.strip() for line in lines if line and line.strip()]
    return AddressData(
        street=", ".join(kept) or None,
        city=text(record, "city"),
        state=text(record, "state"),
        zip=text(record, "zip"),
        is_primary=bool(record.get("primary")),
        pco_id=record.id,
        street_line_1=kept[0] if kept else None,
        street_line_2=", ".join(kept[1:]) or None,
        location=text(record, "location"),
    )
