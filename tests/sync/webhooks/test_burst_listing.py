"""A burst of person deliveries reads its people with one listing, not one GET each."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from rq import SimpleWorker

from example_app.models import db
from flask_pco import current_pco
from flask_pco.jobs.queue import webhook_queue
from flask_pco.mapping.people import PersonData
from flask_pco.sync.pull.people import refresh_person
from flask_pco.sync.webhooks.deliveries import EventDelivery, parse_payload
from flask_pco.sync.webhooks.events import retry_failed_deliveries
from flask_pco.sync.webhooks.handlers import delivery_context
from flask_pco.sync.webhooks.prefetch import MIN_DELIVERIES, covers
from tests.sync.webhooks.conftest import Church, deliveries, person_resource

CREATED, EDITED = "2099-01-01T09:00:00Z", "2099-01-01T10:00:00Z"


def work() -> None:
    queue = webhook_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1)


def people_known_here(church: Church, count: int) -> list[str]:
    """``count`` PCO people, created at ``CREATED`` and already applied here."""
    church.sandbox.control.set_clock(CREATED)
    people = [church.add_pco_person(f"Burst{n}", "Person") for n in range(count)]
    for pco_id in people:
        church.post(church.person_event("created", pco_id))
    work()
    church.sandbox.control.clear_requests()
    return people


def edit_and_announce(church: Church, people: list[str], **attributes: object) -> None:
    """PCO edits each person at ``EDITED`` and sends ``person.updated`` for it."""
    church.sandbox.control.set_clock(EDITED)
    for n, pco_id in enumerate(people):
        church.sandbox.control.edit_person(pco_id, first_name=f"Edited{n}")
        church.post(church.person_event("updated", pco_id, **attributes))


def reads(church: Church) -> tuple[int, int]:
    """(people listings, single-person GETs) asked of PCO since the last clear."""
    paths = [r.split("?")[0] for r in church.pco_requests() if r.startswith("GET ")]
    listings = paths.count("GET /people/v2/people")
    singles = sum(p.startswith("GET /people/v2/people/") for p in paths)
    return listings, singles


def test_a_burst_of_person_updates_reads_its_people_with_one_listing(queued: Church) -> None:
    people = people_known_here(queued, 12)
    edit_and_announce(queued, people)

    work()

    assert [d.status for d in deliveries(db)][-12:] == ["applied"] * 12
    assert [queued.local(pco_id).first_name for pco_id in people] == [
        f"Edited{n}" for n in range(12)
    ]
    assert reads(queued) == (1, 0)


def test_a_burst_relinks_a_merged_profile_with_one_read_of_the_merges(queued: Church) -> None:
    people = people_known_here(queued, 6)
    row_id = queued.local(people[5]).id
    keep = queued.add_pco_person("Kept", "Profile")
    queued.sandbox.control.set_clock(EDITED)
    queued.sandbox.control.merge_people(keep, people[5])
    edit_and_announce(queued, people[:5])
    queued.post(queued.person_event("updated", keep))  # before PCO's merger event

    work()

    assert queued.local(keep).id == row_id  # relinked, not created again
    assert queued.local(people[5]) is None
    assert reads(queued) == (1, 1)  # the merge re-reads its kept profile, as merges always do
    assert [r.split("?")[0] for r in queued.pco_requests()].count(
        "GET /people/v2/person_mergers"
    ) == 1


def test_a_few_deliveries_fetch_each_person_as_before(queued: Church) -> None:
    people = people_known_here(queued, MIN_DELIVERIES)
    edit_and_announce(queued, people[: MIN_DELIVERIES - 1])

    work()

    assert reads(queued) == (0, MIN_DELIVERIES - 1)


def test_an_event_newer_than_the_listed_person_is_fetched_on_its_own(queued: Church) -> None:
    people = people_known_here(queued, 6)
    edit_and_announce(queued, people[:5])
    # An event whose version PCO's listing does not reach yet (it came before its change).
    queued.post(queued.person_event("updated", people[5], updated_at="2099-01-02T00:00:00Z"))

    work()

    assert reads(queued) == (1, 1)
    assert [d.status for d in deliveries(db)][-6:] == ["applied"] * 5 + ["ignored"]


def test_failed_deliveries_retried_together_share_one_listing(queued: Church) -> None:
    people = people_known_here(queued, 6)
    edit_and_announce(queued, people)
    for row in deliveries(db)[-6:]:
        row.status = "failed"
    db.session.commit()
    webhook_queue().empty()

    assert retry_failed_deliveries(current_pco()) == 6

    assert reads(queued) == (1, 0)


def test_a_listed_version_no_newer_than_the_rows_is_fetched_again(queued: Church) -> None:
    pco_id = people_known_here(queued, 1)[0]
    queued.sandbox.control.set_clock(EDITED)
    queued.sandbox.control.edit_person(pco_id, first_name="Fresh")
    applied = queued.local(pco_id).pco_updated_at
    listed = _person(pco_id, "Listed", applied)
    ctx = delivery_context(current_pco())

    assert refresh_person(ctx, pco_id, listed) == "updated"
    db.session.commit()

    assert queued.local(pco_id).first_name == "Fresh"
    assert reads(queued) == (0, 1)


@pytest.mark.parametrize(
    ("listed_at", "listed_name", "covered"),
    [
        ("2099-01-01T10:00:01", "Dana", True),  # a later version
        ("2099-01-01T09:59:59", "Dana", False),  # an older one
        ("2099-01-01T10:00:00", "Dana", True),  # the event's own second and state
        ("2099-01-01T10:00:00", "Other", False),  # the same second, another state
    ],
)
def test_a_listed_person_stands_in_for_an_event_only_if_no_older(
    listed_at: str, listed_name: str, covered: bool
) -> None:
    delivery = _event(person_resource("7", first_name="Dana", updated_at=EDITED))
    listed = _person("7", listed_name, datetime.fromisoformat(listed_at))

    assert covers(listed, delivery) is covered


def _person(pco_id: str, first_name: str, updated_at: datetime | None) -> PersonData:
    return PersonData(
        pco_id=pco_id,
        first_name=first_name,
        last_name="Newcomer",
        gender="F",
        dob=datetime(1990, 4, 2).date(),
        child=False,
        is_active=True,
        updated_at=updated_at,
    )


def _event(resource: dict[str, object]) -> EventDelivery:
    payload = json.dumps({"data": resource})
    parsed, _meta = parse_payload(payload)
    return EventDelivery(
        event_id="e1",
        name="people.v2.events.person.updated",
        attempt=1,
        organization_id="1",
        payload=payload,
        resource=parsed,
        event_time=None,
    )
