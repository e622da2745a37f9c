"""A webhook job applies a batch of queued deliveries: each once, and none lost to a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rq import SimpleWorker
from rq.job import Job, JobStatus

from example_app.models import db
from flask_pco import current_pco
from flask_pco.exceptions import ServerError
from flask_pco.jobs.queue import webhook_job_id, webhook_queue
from flask_pco.sync.webhooks import handlers as event_handlers
from flask_pco.sync.webhooks.prefetch import MIN_DELIVERIES
from tests.sync.webhooks.conftest import (
    Church,
    deliveries,
    delivery_body,
    finish,
    person_resource,
    start_worker,
)

#: What ``worker_app.py`` answers by killing its work horse, the first time.
CRASH_EVENT = "people.v2.events.crash.created"


def post_people(church: Church, count: int) -> list[str]:
    """``count`` new PCO people, each announced by a ``person.created`` delivery."""
    people = [church.add_pco_person(f"Batch{n}", "Person") for n in range(count)]
    for pco_id in people:
        church.post(church.person_event("created", pco_id))
    return people


def work(max_jobs: int | None = None) -> None:
    queue = webhook_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=max_jobs)


def fetches(church: Church, pco_id: str) -> int:
    """How many times the person was read from PCO: once per application of its delivery."""
    return [r.split("?")[0] for r in church.pco_requests()].count(f"GET /people/v2/people/{pco_id}")


def retry_now() -> None:
    """Queue the jobs RQ scheduled for a retry, as if their wait were over."""
    queue = webhook_queue()
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=queue.connection))


def test_one_job_applies_every_queued_delivery_once(queued: Church) -> None:
    people = post_people(queued, 4)
    assert webhook_queue().count == 4

    work(max_jobs=1)

    assert [d.status for d in deliveries(db)] == ["applied"] * 4
    assert [fetches(queued, pco_id) for pco_id in people] == [1, 1, 1, 1]
    assert webhook_queue().count == 0  # the other three jobs were taken, not left to run


@pytest.mark.parametrize("queued", [{"PCO_WEBHOOK_BATCH": 2}], indirect=True)
def test_a_batch_stops_at_pco_webhook_batch(queued: Church) -> None:
    post_people(queued, 3)

    work(max_jobs=1)

    rows = deliveries(db)
    assert [d.status for d in rows] == ["applied", "applied", "received"]
    assert webhook_queue().get_job_ids() == [webhook_job_id(current_pco(), rows[2].id)]


@pytest.mark.parametrize("queued", [{"PCO_WEBHOOK_BATCH": 1}], indirect=True)
def test_batch_of_one_leaves_each_delivery_to_its_own_job(queued: Church) -> None:
    post_people(queued, 2)

    work(max_jobs=1)

    assert [d.status for d in deliveries(db)] == ["applied", "received"]
    assert webhook_queue().count == 1


def test_retriable_failure_mid_batch_is_applied_by_the_retry_of_the_job(
    queued: Church, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def flaky(ctx: Any, delivery: Any) -> tuple[str, str | None]:
        calls.append(delivery.event_id)
        if len(calls) == 1:
            raise ServerError(503, message="PCO is down for a moment")
        return "applied", None

    monkeypatch.setitem(event_handlers.HANDLERS, "flaky", flaky)
    first = post_people(queued, 1)[0]
    queued.post(delivery_body("people.v2.events.flaky.created", person_resource("1")))
    last = post_people(queued, 1)[0]

    # The first job applies its delivery, takes the flaky one and fails on it, which ends the
    # batch: the third delivery's job was not taken and runs on its own.
    work()
    assert [d.status for d in deliveries(db)] == ["applied", "failed", "applied"]
    later = post_people(queued, 1)[0]  # queued ahead of the retry: its batch leaves the retry be
    retry_now()
    work()
    assert [d.status for d in deliveries(db)] == ["applied"] * 4
    assert len(calls) == 2
    assert [fetches(queued, pco_id) for pco_id in (first, last, later)] == [1, 1, 1]


def test_work_horse_crash_mid_batch_loses_nothing_and_applies_nothing_twice(
    queued: Church, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    people = post_people(queued, 2)
    queued.post(delivery_body(CRASH_EVENT, person_resource("1")))
    people += post_people(queued, 2)
    marker, log = tmp_path / "crashed", tmp_path / "worker.log"

    # The first job applies two deliveries, takes the crash and dies; the next job applies
    # the two after it; RQ schedules the first job's retry.
    finish(start_worker(database_url, redis_url, queued.sandbox.url, marker, log), log)
    rows = deliveries(db)
    assert marker.read_text() == "x"
    assert [d.status for d in rows] == ["applied", "applied", "received", "applied", "applied"]
    first_job = Job.fetch(
        webhook_job_id(current_pco(), rows[0].id), connection=webhook_queue().connection
    )
    assert first_job.get_status() == JobStatus.SCHEDULED

    retry_now()
    finish(start_worker(database_url, redis_url, queued.sandbox.url, marker, log), log)
    assert [d.status for d in deliveries(db)] == ["applied"] * 5
    assert marker.read_text() == "xx"
    assert [fetches(queued, pco_id) for pco_id in people] == [1, 1, 1, 1]


def test_two_forking_workers_apply_each_delivery_once(
    queued: Church, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    people = post_people(queued, 30)
    queued.sandbox.control.set_faults(latency_ms=20)  # long enough for the workers to overlap
    logs = [tmp_path / "one.log", tmp_path / "two.log"]

    workers = [
        start_worker(database_url, redis_url, queued.sandbox.url, tmp_path / "unused", log)
        for log in logs
    ]
    for worker, log in zip(workers, logs, strict=True):
        finish(worker, log)

    assert [d.status for d in deliveries(db)] == ["applied"] * 30
    # The batches read their burst's people with listings (``prefetch``); a batch that
    # starts when fewer than MIN_DELIVERIES wait fetches its few one by one. Each person was
    # created here once.
    assert sum(fetches(queued, pco_id) for pco_id in people) < MIN_DELIVERIES
    Person = current_pco().roles.model("person")
    linked = db.session.scalars(db.select(Person.pco_id).where(Person.pco_id.in_(people))).all()
    assert sorted(linked) == sorted(people)
