"""``pull people``, and the single-person helpers webhooks and push reuse.

``pull people`` streams PCO's people with their emails, phones and addresses, a page at a time,
and upserts them through ``PeopleWriter``. Selective (``options["list_ids"]``: only the people
of those PCO Lists) and incremental (``where[updated_at][gte]`` from the cursor) runs touch only
what they read; only a full, unfiltered, complete run may conclude that a linked person PCO no
longer returns is gone, and marks them inactive (never deleted).
A List PCO does not have is recorded as a ``not_found`` issue; the other Lists are still
pulled, and the run then ends ``failed``, naming it ("PCO list 999 does not exist").

The other steps live beside it in ``families``, ``groups`` and ``calendar``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flask_pco.client.ids import path_id
from flask_pco.client.jsonapi import Document, Resource
from flask_pco.exceptions import DocumentError, NotFoundError, PcoError
from flask_pco.mapping.custom_fields import FieldDefinition
from flask_pco.mapping.people import PersonData, person_from_resource
from flask_pco.mapping.values import parse_datetime
from flask_pco.models import Outcome, utcnow
from flask_pco.sync.context import SyncContext
from flask_pco.sync.cursors import advance_cursor, incremental_since, read_cursor
from flask_pco.sync.custom_fields import person_custom_fields, settle_fields, unsettled_fields
from flask_pco.sync.custom_fields import person_includes as with_field_data
from flask_pco.sync.engine import step
from flask_pco.sync.locks import lock_record
from flask_pco.sync.pull.base import (
    Listed,
    PageTally,
    changed_only,
    refresh_statistics,
    run_pages,
)
from flask_pco.sync.pull.versions import PAGE_ORDER, PEOPLE_PATH, pull_by_versions
from flask_pco.sync.pull.writer import PeopleWriter
from flask_pco.sync.removals import count_misses, person_label, propose, restore
from flask_pco.sync.selection import missing_message

__all__ = [
    "PERSON_INCLUDES",
    "apply_person",
    "deactivate_person",
    "fetch_person",
    "organization_country",
    "person_includes",
    "pull_people",
    "refresh_person",
]

PERSON_INCLUDES = ("emails", "phone_numbers", "addresses")
#: Included only for a host that keeps the field: PCO's marital status is a record of its own.
OPTIONAL_INCLUDES = {"marital_status": "marital_status"}
_DEACTIVATE_BATCH = 500


@step("pull", "people")
def pull_people(ctx: SyncContext) -> None:
    """Pull PCO people (all, changed since the cursor, or those of chosen Lists)."""
    from flask_pco.sync.pull.mergers import pull_mergers

    started = utcnow()
    pull_mergers(ctx)  # before any matching: a merged profile is relinked, never duplicated
    list_ids = selected_ids(ctx.options.get("list_ids"))
    since = None if list_ids else incremental_since(ctx, "people")
    listing = _PeopleListing(ctx)
    if list_ids:
        _pull_lists(ctx, listing, list_ids)
        return
    cursor = read_cursor(ctx, "people") if since is None else None
    if cursor is not None:  # listed in full before: who changed, then everyone's version
        pull_by_versions(ctx, listing, cursor, person_includes(ctx))
    else:
        pages = ctx.client.pages(
            PEOPLE_PATH,
            include=person_includes(ctx),
            where={"updated_at": {"gte": since}} if since else None,
            order=PAGE_ORDER,
            per_page=ctx.config.per_page,
            lookahead=True,
        )
        run_pages(ctx, pages, listing.handle)
    if since is None and listing.listed.complete:
        _people_missing(ctx, listing.listed.ids)
        settle_fields(ctx, listing.custom_fields)
    elif since is not None:
        _recheck_missed_people(ctx, listing)
    from flask_pco.sync.pull.retry import retry_left_behind  # retry builds on this module

    retry_left_behind(ctx, listing.listed.ids)
    advance_cursor(ctx, "people", started)


class _PeopleListing:
    """Applies pages of people and remembers who PCO listed, for the deactivation at the end."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.country = organization_country(ctx)
        self.custom_fields = person_custom_fields(ctx)
        #: Fields a stored snapshot must hold to be taken for unchanged (a new mapping's).
        self.agreed_on = unsettled_fields(ctx, self.custom_fields)
        self.listed = Listed()
        self.pages = 0
        from flask_pco.sync.pull.retry import left_behind  # retry builds on this module

        #: People earlier runs could not write: always applied, never taken for unchanged.
        self.retry = left_behind(ctx)

    def handle(self, document: Document, tally: PageTally) -> None:
        self.pages += 1
        refresh_statistics(self.ctx, ("person", "email", "phone", "person_address"), self.pages)
        self.listed.note(document)  # everyone listed, unchanged or not, is still in PCO
        versions = changed_only(
            self.ctx, "person", page_versions(document), tally, self.retry, self.agreed_on
        )
        if not versions:
            return
        changed = replace(document, data=tuple(v.resource for v in versions))
        people = map_people(changed, tally, self.country, self.custom_fields)
        if not people:
            return
        for outcome in PeopleWriter(self.ctx, tally).apply(people):
            tally.count(outcome)


@dataclass(frozen=True, slots=True)
class PageVersion:
    """A listed record's id and PCO ``updated_at``, read before it is mapped."""

    pco_id: str
    updated_at: datetime | None
    resource: Resource


def page_versions(document: Document) -> list[PageVersion]:
    """The version of each record of a page, so an unchanged one is left out before mapping
    (its phones, custom values and contacts are not read at all: an unchanged re-run costs
    the fetching of its pages and one query each). A record whose ``updated_at`` cannot be
    read has no version: it is mapped, and its mapping reports the problem."""
    versions = []
    for resource in document.data:
        try:
            stamp = parse_datetime(resource, "updated_at") if resource.type == "Person" else None
        except DocumentError:
            stamp = None
        versions.append(PageVersion(resource.id, stamp, resource))
    return versions


def map_people(
    document: Document,
    tally: PageTally,
    country: Any = "US",
    custom_fields: Mapping[str, FieldDefinition] | None = None,
) -> list[PersonData]:
    """The page's people; a malformed one is skipped with its reason, bad contacts and bad
    custom values reported (the rest of the person still syncs).

    A person listed twice (offset paging over changing data) is applied once, as last seen.
    """
    people: dict[str, PersonData] = {}
    for resource in document.data:
        try:
            person = person_from_resource(
                resource, document, country=country, custom_fields=custom_fields
            )
        except DocumentError as error:
            tally.issue("invalid", "Person", str(error), pco_id=resource.id)
            continue
        report_problems(tally, person)
        people[person.pco_id] = person
    return list(people.values())


def report_problems(recorder: Any, person: PersonData) -> None:
    """Record what was dropped from a person: contacts, and custom values their type refuses."""
    for problem in person.problems:
        recorder.issue("invalid", "Person", f"contact dropped: {problem}", pco_id=person.pco_id)
    for problem in person.field_problems:
        recorder.issue("invalid", "Person", f"value skipped: {problem}", pco_id=person.pco_id)


def person_includes(ctx: SyncContext) -> tuple[str, ...]:
    """What a person is read with: contacts always, and the included records of the optional
    fields and the custom fields the host keeps (none costs a request of its own)."""
    extra = (
        name for field, name in OPTIONAL_INCLUDES.items() if ctx.roles.present("person", field)
    )
    return with_field_data(ctx, (*PERSON_INCLUDES, *extra))


def selected_ids(value: Any) -> list[str]:
    """PCO ids from an option given as one id or a list of ids (``--list 12`` or ``[12, 13]``)."""
    if value is None or value == "":
        return []
    if isinstance(value, str | int):
        return [part.strip() for part in str(value).split(",") if part.strip()]
    return [str(item) for item in value]


def apply_person(ctx: SyncContext, person: PersonData) -> Outcome:
    """Upsert one PCO person: ``created``, ``updated``, ``unchanged`` or ``held``.

    An older ``updated_at`` than the one already applied changes nothing (``unchanged``). An
    ambiguous match is recorded on ``ctx.report`` as an issue. The caller commits.
    """
    return PeopleWriter(ctx, ctx.report).apply([person])[0]


def refresh_person(
    ctx: SyncContext, pco_id: str, listed: PersonData | None = None
) -> Outcome | None:
    """Re-fetch one person with our pinned version and apply it as a pull would; ``None`` if
    PCO no longer has them.

    The person's lock is taken before the re-fetch (``sync/locks.py``): of two writers of one
    person, the one that commits later also fetched later, so PCO's latest state wins whatever
    order PCO's answers arrive in. A version ``listed`` before the lock (a webhook burst's
    listing) stands in for the re-fetch only if it is newer than the one the row holds.
    """
    lock_record(ctx.session, "person", pco_id)
    fresh = listed is not None and _newer_than_applied(ctx, listed)
    person = listed if fresh else fetch_person(ctx, pco_id)
    if person is None:
        return None
    report_problems(ctx.report, person)
    return apply_person(ctx, person)


def _newer_than_applied(ctx: SyncContext, person: PersonData) -> bool:
    Person = ctx.roles.model("person")
    applied = ctx.session.scalar(
        select(Person.pco_updated_at).where(Person.pco_id == person.pco_id)
    )
    return person.updated_at is not None and (applied is None or person.updated_at > applied)


def deactivate_person(ctx: SyncContext, pco_id: str, why: str = "deleted in PCO") -> bool:
    """Propose deactivating the active person linked to ``pco_id``; True if there is one.

    The removal is made (or held, over the cap) when the step or delivery settles its
    removals; the row and its local data stay: a person is never deleted by a sync.
    """
    Person = ctx.roles.model("person")
    row = ctx.session.scalar(select(Person).where(Person.pco_id == pco_id))
    if row is None or not ctx.roles.present("person", "is_active"):
        return False
    if not getattr(row, ctx.roles.column("person", "is_active")):
        return False
    _propose_deactivations(ctx, [row.id], why)
    return True


def fetch_person(ctx: SyncContext, pco_id: str) -> PersonData | None:
    """One PCO person with their contacts (one GET), or ``None`` if PCO no longer has them."""
    try:
        document = ctx.client.get(
            f"/people/v2/people/{path_id(pco_id)}",
            params={"include": ",".join(person_includes(ctx))},
        )
    except NotFoundError:
        return None
    if not document.data:
        return None
    return person_from_resource(
        document.data[0],
        document,
        country=organization_country(ctx),
        custom_fields=person_custom_fields(ctx),
    )


def organization_country(ctx: SyncContext) -> Callable[[], str]:
    """The organisation's country for phone parsing, fetched once per process when first needed."""

    def country() -> str:
        cache = ctx.state.cache
        if "pco_country" not in cache:
            try:
                document = ctx.client.get("/people/v2")
                code = document.data[0].get("country_code") if document.data else None
            except PcoError:
                code = None
            cache["pco_country"] = code if isinstance(code, str) and code else "US"
        return str(cache["pco_country"])

    return country


def _pull_lists(ctx: SyncContext, listing: _PeopleListing, list_ids: list[str]) -> None:
    """Pull the people of each List; one PCO does not have is recorded, the others are still
    pulled, and the run then fails naming it: an admin asked for people who were not brought."""
    missing: list[str] = []
    for list_id in list_ids:
        try:
            run_pages(ctx, _list_pages(ctx, list_id), listing.handle)
        except NotFoundError:
            missing.append(list_id)
            reason = missing_message("list", [list_id])
            ctx.report.issue("not_found", "List", reason, pco_id=list_id)
            ctx.report.checkpoint(force=True)
    if missing:
        raise NotFoundError(404, message=missing_message("list", missing))


def _list_pages(ctx: SyncContext, list_id: str) -> Iterable[Document]:
    path = f"/people/v2/lists/{path_id(list_id)}/people"
    return ctx.client.pages(path, per_page=ctx.config.per_page, include=person_includes(ctx))


def _people_missing(ctx: SyncContext, seen: set[str]) -> None:
    """After a complete full listing: count a miss for each active linked person it lacked,
    propose deactivating those missed often enough, and forget the misses of those listed."""
    if not ctx.roles.present("person", "is_active"):
        return  # the site keeps no such flag; the people stay as they are
    Person = ctx.roles.model("person")
    active = getattr(Person, ctx.roles.column("person", "is_active"))
    rows = ctx.session.execute(
        select(Person.id, Person.pco_id, Person.pco_misses, Person.pco_removed_at, active).where(
            Person.pco_id.is_not(None)
        )
    ).all()
    restore(ctx, "person", [r[0] for r in rows if r[1] in seen and (r[2] or r[3])])
    gone = [r[0] for r in rows if r[1] not in seen and r[4]]
    why = "a complete listing of PCO's people no longer has them"
    _propose_deactivations(ctx, count_misses(ctx, "person", gone), why)
    ctx.session.commit()


def _recheck_missed_people(ctx: SyncContext, listing: _PeopleListing) -> None:
    """An incremental pull looks again at people a full listing missed: one GET each (there
    are rarely any), so a deletion is confirmed without waiting for the next full pull."""
    Person = ctx.roles.model("person")
    rows = ctx.session.execute(
        select(Person.id, Person.pco_id).where(Person.pco_id.is_not(None), Person.pco_misses > 0)
    ).all()
    back, gone = [], []
    for row_id, pco_id in rows:
        if pco_id in listing.listed.ids:
            back.append(row_id)
            continue
        person = fetch_person(ctx, pco_id)
        if person is None:
            gone.append(row_id)
            continue
        apply_person(ctx, person)
        back.append(row_id)
    restore(ctx, "person", back)
    why = "PCO answered 404 for them after a complete listing had missed them"
    _propose_deactivations(ctx, count_misses(ctx, "person", gone), why)
    ctx.session.commit()


def _propose_deactivations(ctx: SyncContext, ids: list[int], why: str) -> None:
    if not ctx.roles.present("person", "is_active"):
        return  # the site keeps no active flag: nothing to deactivate
    Person = ctx.roles.model("person")
    for start in range(0, len(ids), _DEACTIVATE_BATCH):
        batch = ids[start : start + _DEACTIVATE_BATCH]
        for row in ctx.session.scalars(select(Person).where(Person.id.in_(batch))):
            label = person_label(ctx, row.id)
            propose(ctx, "person", row, label, f"PCO person {row.pco_id}: {why}")
