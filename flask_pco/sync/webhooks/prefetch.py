"""A burst of person deliveries re-fetched with a listing instead of one GET each.

Each ``person.created``/``person.updated`` delivery is only a notification: its person is
re-fetched with our pinned version (``handlers``). In a burst (a bulk edit in PCO, an import)
that is one request per delivery, against the church's 100 requests per 20 s shared with its
runs. So a batch of webhook jobs (``jobs/webhook_batch``) opens a ``people_batch``. Once at
least ``MIN_DELIVERIES`` person deliveries wait, the batch lists the people changed since the
oldest waiting one's version, oldest first, with the same includes (``where[updated_at][gte]``,
``order=updated_at``), a page at a time as its deliveries need them, at most a page more than
the waiting deliveries fill. Deliveries that arrive after that listing start another one.
150 deliveries cost 2 or 3 requests instead of 150.

A listed version stands in for a GET only when it is certainly no older than the event:
PCO's ``updated_at`` later than the payload's, or the same second with the same
demographics (two edits can share a second). The writer then takes it only if it is newer
than what the row holds (``pull/people.refresh_person``); anything else is fetched as
before, and so is every person of a listing that failed.

A person the site does not know yet may be the profile PCO kept in a merge it has not heard
of: PCO's merges are read once after each page that lists such a person, so every merge
before its version is applied first (instead of a read of the merges for each such person).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flask_pco.exceptions import DocumentError, PcoError
from flask_pco.mapping.people import PersonData, person_from_resource
from flask_pco.sync.custom_fields import person_custom_fields
from flask_pco.sync.policy import comparable
from flask_pco.sync.webhooks.deliveries import EventDelivery, parse_payload, parse_timestamp

if TYPE_CHECKING:
    from flask_pco.client import Document
    from flask_pco.sync.context import SyncContext

__all__ = [
    "MIN_DELIVERIES",
    "PeopleBatch",
    "covers",
    "listed_person",
    "merges_read_for",
    "people_batch",
]

log = logging.getLogger(__name__)

#: Below this many waiting person deliveries a listing saves too little to risk its pages.
MIN_DELIVERIES = 5
#: Waiting deliveries one listing is planned for (a larger burst is listed again after).
WINDOW = 500
#: PCO's largest page.
PER_PAGE = 100
_PERSON_EVENTS = ("people.v2.events.person.created", "people.v2.events.person.updated")

_current: ContextVar[PeopleBatch | None] = ContextVar("flask_pco_people_batch", default=None)


class PeopleBatch:
    """The people a batch's listings returned so far, by PCO id."""

    def __init__(self) -> None:
        self.people: dict[str, PersonData] = {}
        self._pages: Iterator[Document] | None = None
        self._pages_left = 0
        #: The newest version listed so far: the listing is past any person older than it.
        self._newest: datetime | None = None
        #: The last delivery row a listing was planned for.
        self._planned_up_to = 0
        #: People listed on a page after which PCO's merges were read.
        self.merges_read_for: set[str] = set()

    def person(self, ctx: SyncContext, delivery: EventDelivery) -> PersonData | None:
        """The listed version of ``delivery``'s person, if it is certainly no older."""
        pco_id = delivery.resource.id
        version = parse_timestamp(delivery.resource.get("updated_at"))
        while pco_id not in self.people and version is not None and self._read_on(ctx, version):
            pass
        listed = self.people.get(pco_id)
        return listed if listed is not None and covers(listed, delivery) else None

    def _read_on(self, ctx: SyncContext, version: datetime) -> bool:
        """Read the next page that may hold a person of this version; False when none can."""
        if self._pages_left <= 0 or self._pages is None:
            if not self._plan(ctx):
                return False
        elif self._newest is not None and self._newest > version:
            return False  # listed past it: the person did not change after it, or moved
        assert self._pages is not None
        self._pages_left -= 1
        try:
            document = next(self._pages, None)
        except PcoError as error:
            if error.retriable:
                raise  # the batch ends and its job is retried later, as a GET's would be
            log.warning("flask-pco could not list a burst's people (%s); fetching each", error)
            document = None
        if document is None:
            self._pages_left = 0
            return False
        self._take(ctx, document)
        return True

    def _plan(self, ctx: SyncContext) -> bool:
        """Start a listing for the deliveries that came since the last one planned, if enough."""
        ids, versions = _waiting_versions(ctx, after=self._planned_up_to)
        if len(versions) < MIN_DELIVERIES:
            return False
        from flask_pco.sync.pull.people import person_includes
        from flask_pco.sync.pull.versions import PEOPLE_PATH

        self._planned_up_to = max(ids)
        self._pages = ctx.client.pages(
            PEOPLE_PATH,
            include=person_includes(ctx),
            where={"updated_at": {"gte": min(versions)}},
            order="updated_at",
            per_page=PER_PAGE,
        )
        self._pages_left = math.ceil(len(versions) / PER_PAGE) + 1
        self._newest = None
        return True

    def _take(self, ctx: SyncContext, document: Document) -> None:
        from flask_pco.sync.pull.people import organization_country

        country, fields = organization_country(ctx), person_custom_fields(ctx)
        page = [p for r in document.data if (p := _mapped(r, document, country, fields))]
        for person in page:
            self.people[person.pco_id] = person
            if person.updated_at and (self._newest is None or person.updated_at > self._newest):
                self._newest = person.updated_at
        ids = [person.pco_id for person in page]
        if _unknown_here(ctx, ids):
            from flask_pco.sync.pull.mergers import pull_mergers

            pull_mergers(ctx)
            self.merges_read_for.update(ids)


@contextmanager
def people_batch() -> Iterator[PeopleBatch]:
    """Within the block, person deliveries share listings of the waiting people."""
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


def merges_read_for(pco_id: str) -> bool:
    """Whether the current batch read PCO's merges after listing this person."""
    batch = _current.get()
    return batch is not None and pco_id in batch.merges_read_for


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


def _mapped(resource: Any, document: Any, country: Any, fields: Any) -> PersonData | None:
    try:
        return person_from_resource(resource, document, country=country, custom_fields=fields)
    except DocumentError:
        return None  # its delivery fetches it, and reports what is wrong with it


def _unknown_here(ctx: SyncContext, pco_ids: list[str]) -> bool:
    """Whether any of these PCO people is linked to no local person."""
    if not pco_ids:
        return False
    Person = ctx.roles.model("person")
    known = ctx.session.scalar(
        select(func.count()).select_from(Person).where(Person.pco_id.in_(pco_ids))
    )
    return (known or 0) < len(set(pco_ids))


def _waiting_versions(ctx: SyncContext, *, after: int) -> tuple[list[int], list[datetime]]:
    """The rows and payload ``updated_at`` of person deliveries not applied yet, past row
    ``after`` (the version is read only when there are enough of them)."""
    Delivery = ctx.models.WebhookDelivery
    waiting = (
        Delivery.status == "received",
        Delivery.name.in_(_PERSON_EVENTS),
        Delivery.id > after,
    )
    count = ctx.session.scalar(select(func.count()).select_from(Delivery).where(*waiting))
    if (count or 0) < MIN_DELIVERIES:
        return [], []
    rows = ctx.session.execute(
        select(Delivery.id, Delivery.payload).where(*waiting).order_by(Delivery.id).limit(WINDOW)
    )
    ids, versions = [], []
    for row_id, payload in rows:
        try:
            version = parse_timestamp(parse_payload(payload)[0].get("updated_at"))
        except DocumentError:
            continue
        if version is not None:
            ids.append(row_id)
            versions.append(version)
    return ids, versions
