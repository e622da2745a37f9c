"""What PCO already holds, indexed so the push can link instead of creating a duplicate.

PCO's ``search_*`` lags new records by 30-90 s, so "search, then create" duplicates anyone
created moments ago (by us in a run that was killed, say). The plain listing is consistent: one
pass over ``/people/v2/people?include=emails,phone_numbers`` gives every person with their
``remote_id`` (our id) and contacts, at one request per 100 people instead of one per person.
Group memberships are indexed the same way, one listing per group.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from flask_pco.client.ids import path_id
from flask_pco.exceptions import DocumentError, NotFoundError
from flask_pco.mapping.custom_fields import FieldDefinition
from flask_pco.mapping.groups import MembershipData, membership_from_resource
from flask_pco.mapping.payloads import normalize_email
from flask_pco.mapping.people import EmailData, PersonData, person_from_resource
from flask_pco.mapping.phones import normalize_phone
from flask_pco.sync.policy import comparable

if TYPE_CHECKING:
    from flask_pco.client import Document, PcoClient, Resource

__all__ = [
    "PEOPLE_PATH",
    "PeopleIndex",
    "RemoteContact",
    "RemotePerson",
    "find_people_by_remote_id",
    "group_memberships",
    "index_includes",
    "load_people_index",
    "name_key",
    "parse_pco_time",
    "remote_people",
    "remote_person",
    "written_person",
]

log = logging.getLogger(__name__)

PEOPLE_PATH = "/people/v2/people"
_CONTACTS = ("emails", "phone_numbers")


@dataclass(frozen=True, slots=True)
class RemoteContact:
    """An Email or PhoneNumber in PCO, its value in the form we compare (lower-case / E.164)."""

    id: str
    value: str
    primary: bool = False
    #: The contact's PCO-owned fields in local snapshot form (``policy.PCO_OWNED``).
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RemotePerson:
    """A PCO Person as the push needs it: ids, PCO-owned values in local form, and contacts."""

    id: str
    remote_id: int | None
    #: Logical person fields in snapshot form, comparable with ``policy.local_values``.
    values: dict[str, Any]
    updated_at: datetime | None = None
    emails: tuple[RemoteContact, ...] = ()
    phones: tuple[RemoteContact, ...] = ()
    #: Only when the listing included them (the host has a ``person_address`` role).
    addresses: tuple[RemoteContact, ...] = ()
    #: PCO's nickname and given name.
    other_names: tuple[str, ...] = ()
    #: The person's FieldData as (id, definition id, value), when the listing included them.
    field_data: tuple[tuple[str, str, str], ...] = ()

    def as_person_data(self) -> PersonData:
        """This person as a pull reads them, so the push can ask the pull's matcher about them."""
        values = self.values
        dob = values.get("dob")
        return PersonData(
            pco_id=self.id,
            first_name=values.get("first_name") or "",
            last_name=values.get("last_name") or "",
            gender=values.get("gender"),
            dob=date.fromisoformat(dob) if isinstance(dob, str) else None,
            child=bool(values.get("child")),
            is_active=bool(values.get("is_active", True)),
            updated_at=self.updated_at,
            remote_id=self.remote_id,
            emails=tuple(EmailData(e.value, e.primary, e.id or None) for e in self.emails),
            other_names=self.other_names,
        )

    @property
    def name_key(self) -> tuple[str, str, str] | None:
        """(first, last, birth date) folded, or None without a birth date: the name tier's key."""
        return name_key(
            self.values.get("first_name"), self.values.get("last_name"), self.values.get("dob")
        )

    def email(self, address: str) -> RemoteContact | None:
        wanted = normalize_email(address)
        return next((e for e in self.emails if e.value == wanted), None)

    def phone(self, number: str) -> RemoteContact | None:
        wanted = normalize_phone(number)
        return next((p for p in self.phones if p.value == wanted), None)

    def address(self, street_line_1: str) -> RemoteContact | None:
        wanted = _fold(street_line_1)
        return next((a for a in self.addresses if a.value == wanted), None)


def parse_pco_time(value: Any) -> datetime | None:
    """PCO's ISO 8601 time as naive UTC, the form our ``timestamp`` columns hold."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def remote_person(
    person: Resource,
    document: Document | None = None,
    custom_fields: Mapping[str, FieldDefinition] | None = None,
) -> RemotePerson:
    """A PCO Person (contacts from ``document``'s included records), through the pull's mapping
    so both directions read PCO alike; a custom value PCO's type refuses reads as absent."""
    data = person_from_resource(person, document, custom_fields=custom_fields)
    return RemotePerson(
        id=data.pco_id,
        remote_id=data.remote_id,
        values={name: comparable(value) for name, value in data.demographics().items()},
        updated_at=data.updated_at,
        emails=tuple(
            RemoteContact(
                e.pco_id or "",
                normalize_email(e.address),
                e.is_primary,
                {"email": comparable(e.address), "is_primary": e.is_primary},
            )
            for e in data.emails
        ),
        phones=tuple(
            RemoteContact(
                p.pco_id or "",
                p.e164,
                p.is_primary,
                {"phone": p.e164, "kind": comparable(p.kind), "is_primary": p.is_primary},
            )
            for p in data.phones
        ),
        addresses=tuple(
            RemoteContact(
                a.pco_id or "",
                _fold(a.street_line_1),
                a.is_primary,
                {name: comparable(value) for name, value in a.as_person_address().items()},
            )
            for a in data.addresses
        ),
        other_names=data.other_names,
        field_data=_field_data(person, document) if custom_fields else (),
    )


def _field_data(person: Resource, document: Document | None) -> tuple[tuple[str, str, str], ...]:
    records = document.related(person, "field_data") if document is not None else []
    return tuple(
        (datum.id, datum.related_id("field_definition") or "", str(datum.get("value") or ""))
        for datum in records
    )


def name_key(first: Any, last: Any, dob: Any) -> tuple[str, str, str] | None:
    """First and last name folded, with the birth date in ISO form; None without a birth date."""
    if not dob:
        return None
    return (_fold(first), _fold(last), comparable(dob))


def _fold(value: Any) -> str:
    return str(value or "").strip().lower()


@dataclass
class PeopleIndex:
    """PCO people by id, by ``remote_id`` and by (lower-case) email address."""

    people: dict[str, RemotePerson] = field(default_factory=dict)
    by_remote_id: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_email: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_name: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, person: RemotePerson) -> None:
        """Add or replace a person (after a create or an update) so later lookups see it."""
        self.people[person.id] = person
        if person.remote_id is not None:
            self.by_remote_id[person.remote_id].add(person.id)
        for email in person.emails:
            self.by_email[email.value].add(person.id)
        if person.name_key is not None:
            self.by_name[person.name_key].add(person.id)

    def get(self, pco_id: str | None) -> RemotePerson | None:
        return self.people.get(pco_id) if pco_id else None

    def with_remote_id(self, remote_id: int) -> list[RemotePerson]:
        return self._sorted(self.by_remote_id.get(remote_id, ()))

    def with_email(self, address: str) -> list[RemotePerson]:
        return self._sorted(self.by_email.get(normalize_email(address), ()))

    def with_name(self, key: tuple[str, str, str] | None) -> list[RemotePerson]:
        """People with this (first, last, birth date) key: the name tier's candidates."""
        return self._sorted(self.by_name.get(key, ())) if key is not None else []

    def _sorted(self, ids: Iterable[str]) -> list[RemotePerson]:
        return [self.people[i] for i in sorted(ids, key=_numeric_first)]

    def __len__(self) -> int:
        return len(self.people)


def _numeric_first(pco_id: str) -> tuple[int, str]:
    return (int(pco_id), "") if pco_id.isdigit() else (0, pco_id)


def remote_people(
    pages: Iterable[Document], custom_fields: Mapping[str, FieldDefinition] | None = None
) -> Iterator[RemotePerson]:
    for page in pages:
        for person in page.data:
            try:
                yield remote_person(person, page, custom_fields)
            except DocumentError as error:  # one malformed record must not stop the push
                log.warning("skipping PCO person %s in the index: %s", person.id, error)


def load_people_index(
    client: PcoClient,
    wanted: Collection[str] | None = None,
    custom_fields: Mapping[str, FieldDefinition] | None = None,
    *,
    addresses: bool = False,
) -> PeopleIndex:
    """Every PCO person with their contacts, from one consistent listing (ordered by creation,
    so records created while we page do not shift the pages we have yet to read).

    ``wanted``: when the push only needs some linked people (nobody to match), paging stops as
    soon as fetching the missing ones one by one costs fewer requests than the pages left.
    ``custom_fields``: the host's custom fields, read with the people (``include=field_data``).
    ``addresses``: read the people's addresses too (a host with per-person addresses).
    """
    index = PeopleIndex()
    read = 0
    includes = index_includes(custom_fields, addresses)
    for page in client.pages(PEOPLE_PATH, include=includes, order="created_at"):
        for person in remote_people((page,), custom_fields):
            index.add(person)
        read += len(page.data)
        if wanted is not None and _fetch_rest(
            client, index, wanted, page, read, includes, custom_fields
        ):
            break
    return index


def index_includes(
    custom_fields: Mapping[str, FieldDefinition] | None, addresses: bool = False
) -> tuple[str, ...]:
    extra = (*(("addresses",) if addresses else ()), *(("field_data",) if custom_fields else ()))
    return (*_CONTACTS, *extra)


def _fetch_rest(
    client: PcoClient,
    index: PeopleIndex,
    wanted: Collection[str],
    page: Document,
    read: int,
    includes: tuple[str, ...],
    custom_fields: Mapping[str, FieldDefinition] | None = None,
) -> bool:
    """Fetch the wanted people not read yet if that is cheaper than paging on; True if done."""
    missing = [pco_id for pco_id in wanted if pco_id not in index.people]
    per_page = max(len(page.data), 1)
    pages_left = -(-max((page.total_count or 0) - read, 0) // per_page)
    if not page.next_url or len(missing) >= pages_left:
        return False
    for pco_id in missing:
        try:
            document = client.get(
                f"{PEOPLE_PATH}/{path_id(pco_id)}", {"include": ",".join(includes)}
            )
        except NotFoundError:
            continue  # deleted or merged in PCO: the push reports it
        index.add(remote_person(document.data[0], document, custom_fields))
    return True


def find_people_by_remote_id(client: PcoClient, remote_id: int) -> list[RemotePerson]:
    """The PCO people carrying our id: how a create with an unknown outcome is reconciled."""
    pages = client.pages(PEOPLE_PATH, include=_CONTACTS, where={"remote_id": int(remote_id)})
    return [p for p in remote_people(pages) if p.remote_id == int(remote_id)]


def group_memberships(client: PcoClient, group_pco_id: str) -> dict[str, MembershipData]:
    """A PCO group's memberships keyed by person id (PCO allows one per person and group)."""
    found: dict[str, MembershipData] = {}
    for resource in client.iterate(f"/groups/v2/groups/{path_id(group_pco_id)}/memberships"):
        try:
            membership = membership_from_resource(resource, group_pco_id)
        except DocumentError as error:
            log.warning("skipping PCO membership %s: %s", resource.id, error)
            continue
        found[membership.person_id] = membership
    return found


def written_person(resource: Resource, previous: RemotePerson | None = None) -> RemotePerson:
    """PCO's answer to a Person write (which carries no contacts), with the contacts we knew."""
    fresh = remote_person(resource)
    if previous is None:
        return fresh
    custom = {k: v for k, v in previous.values.items() if k not in fresh.values}
    return replace(
        fresh,
        values={**fresh.values, **custom},
        emails=previous.emails,
        phones=previous.phones,
        addresses=previous.addresses,
        field_data=previous.field_data,
    )
