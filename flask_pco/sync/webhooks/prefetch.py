"""A burst of person deliveries re-fetched with one listing instead of one GET each.

Each ``person.created``/``person.updated`` delivery is only a notification: its person is
re-fetched with our pinned version (``handlers``). In a burst (a bulk edit in PCO, an import)
that is one request per delivery, against the church's 100 requests per 20 s shared with its
runs. So a batch of webhook jobs (``jobs/webhook_batch``) opens a ``people_batch``: the first
person delivery it applies lists the people changed since the oldest waiting delivery's
version, newest first, with the same includes (``order=-updated_at``, ``where[updated_at]
[gte]``), at most a page more than the waiting deliveries fill; the deliveries of the batch
take their person from it. 150 deliveries cost 2 or 3 requests instead of 150.

A listed version stands in for a GET only when it is certainly no older than the event:
PCO's ``updated_at`` later than the payload's, or the same second with the same
demographics (two edits can share a second). The writer then takes it only if it is newer
than what the row holds (``pull/people.refresh_person``); anything else is fetched as
before. A listing that fails is not retried here: the deliveries fetch their people. PCO's
merges are read once after the listing, instead of once per person the site does not know
yet (a merge's kept profile is relinked, never created twice).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.exceptions import DocumentError, PcoError
from flask_pco.mapping.people import PersonData, person_from_resource
from flask_pco.sync.custom_fields import person_custom_fields
from flask_pco.sync.policy import comparable
from flask_pco.sync.webhooks.deliveries import EventDelivery, parse_payload, parse_timestamp

if TYPE_CHECKING:
    from flask_pco.sync.context import SyncContext

__all__ = ["MIN_DELIVERIES", "PeopleBatch", "listed_person", "people_batch"]

log = logging.getLogger(__name__)

#: Below this many waiting person deliveries a listing saves too little to risk its pages.
MIN_DELIVERIES = 5
#: Waiting deliveries read to choose the listing's window (a larger burst is listed again by
#: the next batch).
WINDOW = 500
#: PCO's largest page.
PER_PAGE = 100
_PERSON_EVENTS = ("people.v2.events.person.created", "people.v2.events.person.updated")

_current: ContextVar[PeopleBatch | None] = ContextVar("flask_pco_people_batch", default=None)


class PeopleBatch:
    """The people one listing returned, by PCO id; listed on first use, once."""

    def __init__(self) -> None:
        self.people: dict[str, PersonData] | None = None

    def person(self, ctx: SyncContext, delivery: EventDelivery) -> PersonData | None:
        """The listed version of ``delivery``'s person, if it is certainly no older."""
        if self.people is None:
            self.people = list_waiting_people(ctx)
        listed = self.people.get(delivery.resource.id)
        return listed if listed is not None and covers(listed, delivery) else None


@contextmanager
def people_batch() -> Iterator[PeopleBatch]:
    """Within the block, person deliveries share one listing of the waiting people."""
    batch = PeopleBatch()
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)


def listed_person(ctx: SyncContext, delivery: EventDelivery) -> PersonData | None:
    """The current batch's listed version of the delivery's person, or None (fetch it)."""
    batch = _current.get()
    return batch.person(ctx, delivery) if batch is not None else None


def covers(listed: PersonData, delivery: EventDelivery) -> bool:
    """``listed`` is at least the event's version of the person."""
    event_version = parse_timestamp(delivery.resource.get("updated_at"))
    if listed.updated_at is None or event_version is None:
        return False
    if listed.updated_at != event_version:
        return listed.updated_at > event_version
    try:
        sent = person_from_resource(delivery.resource).demographics()
    except DocumentError:
        return False
    have = listed.demographics()
    return all(comparable(have.get(k)) == comparable(v) for k, v in sent.items())


def list_waiting_people(ctx: SyncContext) -> dict[str, PersonData]:
    """The people changed since the oldest waiting person delivery's version, newest first,
    in at most one page more than the waiting deliveries fill; {} below ``MIN_DELIVERIES``."""
    versions = _waiting_versions(ctx)
    if len(versions) < MIN_DELIVERIES:
        return {}
    from flask_pco.sync.pull.people import organization_country, person_includes
    from flask_pco.sync.pull.versions import PEOPLE_PATH

    pages = ctx.client.pages(
        PEOPLE_PATH,
        include=person_includes(ctx),
        where={"updated_at": {"gte": min(versions)}},
        order="-updated_at",
        per_page=PER_PAGE,
    )
    country, fields = organization_country(ctx), person_custom_fields(ctx)
    people: dict[str, PersonData] = {}
    try:
        for _, document in zip(range(math.ceil(len(versions) / PER_PAGE) + 1), pages, strict=False):
            for resource in document.data:
                person = _mapped(resource, document, country, fields)
                if person is not None:
                    people.setdefault(person.pco_id, person)  # newest first: keep the first
    except PcoError as error:
        if error.retriable:
            raise  # the batch ends and its job is retried later, as a GET's would be
        log.warning("flask-pco could not list a burst's people (%s); fetching each", error)
        return {}
    if people:
        _read_merges_after(ctx)
    return people


def _read_merges_after(ctx: SyncContext) -> None:
    """Apply PCO's merges once, after the listing, for every listed person the site does not
    know yet: a merge before an event is before the listing of its version, so it is in this
    read (``handlers.refresh_person`` would otherwise read merges for each such person)."""
    from flask_pco.sync.pull.mergers import pull_mergers

    pull_mergers(ctx)


def _mapped(resource: Any, document: Any, country: Any, fields: Any) -> PersonData | None:
    try:
        return person_from_resource(resource, document, country=country, custom_fields=fields)
    except DocumentError:
        return None  # its delivery fetches it, and reports what is wrong with it


def _waiting_versions(ctx: SyncContext) -> list[datetime]:
    """The payload ``updated_at`` of the person deliveries not applied yet."""
    Delivery = ctx.models.WebhookDelivery
    payloads = ctx.session.scalars(
        select(Delivery.payload)
        .where(Delivery.status == "received", Delivery.name.in_(_PERSON_EVENTS))
        .order_by(Delivery.id)
        .limit(WINDOW)
    )
    versions = []
    for payload in payloads:
        try:
            version = parse_timestamp(parse_payload(payload)[0].get("updated_at"))
        except (DocumentError, ValueError):
            continue
        if version is not None:
            versions.append(version)
    return versions
