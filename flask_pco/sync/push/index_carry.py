"""The push's people index carried from one slice of a run to the next (``sync.slices``).

A push in slices used to list every PCO person again at the start of each slice: 4 requests
a slice for 400 people, 50 for a church of 5,000, half of a burst of its budget. So the slice
that read the index hands it to the next (``Slicer.carry``), with the time the reading
began, and the next slice lists only the people PCO changed since then, less
``PCO_INCREMENTAL_OVERLAP``, with the same includes (ordered by creation, so the pages hold
still). That brings in the people the earlier slices wrote and anyone created or edited in
PCO meanwhile, by anyone: the carried index is never staler than the one an unsliced run
would hold by then, which reads it once at its start. A person deleted in PCO meanwhile stays
in it, as in an unsliced run (a write to them answers 404 and is reported).

The RQ side keeps it in Redis under the run, for an hour at most, and drops it when the run
ends. Only a complete index is carried (not one read for linked people only), and only to a
slice asking for the same includes; anything else, or nothing carried (a lost key, a first
slice), reads the whole listing as before.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask_pco.models import utcnow
from flask_pco.sync.push.remote_index import (
    PEOPLE_PATH,
    PeopleIndex,
    RemoteContact,
    RemotePerson,
    parse_pco_time,
    remote_people,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask_pco.client import PcoClient
    from flask_pco.mapping.custom_fields import FieldDefinition
    from flask_pco.sync.slices import Slicer

__all__ = ["CARRY_NAME", "carried_index", "carry_index"]

log = logging.getLogger(__name__)

#: The name the index is carried under (``Slicer.carry``).
CARRY_NAME = "push-people-index"
_VERSION = 1


def carry_index(
    slicer: Slicer, index: PeopleIndex, read_at: datetime, includes: tuple[str, ...]
) -> None:
    """Hand the index, read (or refreshed) from ``read_at`` on, to the run's next slice."""
    people = [_person_row(person) for person in index.people.values()]
    text = json.dumps(
        {
            "v": _VERSION,
            "read_at": read_at.isoformat(),
            "includes": list(includes),
            "people": people,
        },
        separators=(",", ":"),
    )
    slicer.carry(CARRY_NAME, text)


def carried_index(
    slicer: Slicer,
    client: PcoClient,
    includes: tuple[str, ...],
    overlap: int,
    custom_fields: Mapping[str, FieldDefinition] | None = None,
) -> tuple[PeopleIndex, datetime] | None:
    """The index an earlier slice carried, brought up to date from PCO, with the time this
    refresh began; None when nothing usable was carried."""
    text = slicer.carried(CARRY_NAME)
    if not text:
        return None
    try:
        saved = json.loads(text)
        if saved.get("v") != _VERSION or tuple(saved["includes"]) != includes:
            return None
        read_at = datetime.fromisoformat(saved["read_at"])
        index = PeopleIndex()
        for row in saved["people"]:
            index.add(_person(row))
    except (ValueError, KeyError, TypeError) as error:  # a carry from another version
        log.warning("flask-pco: the carried people index is unusable, reading it again: %s", error)
        return None
    refreshed_at = utcnow()
    pages = client.pages(
        PEOPLE_PATH,
        include=includes,
        where={"updated_at": {"gte": read_at - timedelta(seconds=overlap)}},
        order="created_at",
    )
    for person in remote_people(pages, custom_fields):
        index.add(person)
    return index, refreshed_at


def _contact(contact: RemoteContact) -> list[Any]:
    return [contact.id, contact.value, contact.primary, contact.values]


def _contacts(rows: list[list[Any]]) -> tuple[RemoteContact, ...]:
    return tuple(RemoteContact(str(c[0]), str(c[1]), bool(c[2]), dict(c[3])) for c in rows)


def _person_row(person: RemotePerson) -> dict[str, Any]:
    return {
        "id": person.id,
        "remote_id": person.remote_id,
        "values": person.values,
        "updated_at": person.updated_at.isoformat() if person.updated_at else None,
        "emails": [_contact(c) for c in person.emails],
        "phones": [_contact(c) for c in person.phones],
        "addresses": [_contact(c) for c in person.addresses],
        "other_names": list(person.other_names),
        "field_data": [list(datum) for datum in person.field_data],
    }


def _person(row: dict[str, Any]) -> RemotePerson:
    return RemotePerson(
        id=row["id"],
        remote_id=row["remote_id"],
        values=row["values"],
        updated_at=parse_pco_time(row["updated_at"]),
        emails=_contacts(row["emails"]),
        phones=_contacts(row["phones"]),
        addresses=_contacts(row["addresses"]),
        other_names=tuple(row["other_names"]),
        field_data=tuple(tuple(datum) for datum in row["field_data"]),
    )
