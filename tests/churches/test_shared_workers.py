"""One pool of workers serves every church: each church's jobs wait in its own queue, a
worker started before a church's first job serves it, and workers take the churches' jobs in
turn, so one church's backlog never makes another's delivery wait behind all of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

from flask_pco.jobs.church_queues import WAKE_UP_JOB_ID, move_due_retries, wake_up_job
from flask_pco.jobs.queue import start_sync, sync_queue, webhook_queue
from flask_pco.jobs.workers import make_worker
from flask_pco.sandbox import SandboxServer
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization
from flask_pco.web.webhook import sign_body
from tests.sync.webhooks.conftest import delivery_body, person_resource

from .conftest import GRACE, HOPE, connected_site

WEBHOOK_URL = "/api/pco/webhook"


@pytest.fixture
def one_per_job(
    database_url: str, redis_url: str, two_organizations: SandboxServer
) -> Iterator[Flask]:
    """The site with one delivery per job, so each delivery is one turn of a worker."""
    with connected_site(database_url, redis_url, two_organizations, PCO_WEBHOOK_BATCH=1) as app:
        yield app


def church_queue(church: str | None) -> Queue:
    with use_organization(church):
        return sync_queue()


def deliver(site: Flask, church: str, count: int) -> None:
    """``count`` deliveries signed with the church's subscription secret."""
    with use_organization(church):
        state = current_pco()
        Subscription = state.models.WebhookSubscription
        if state.db.session.scalars(select(Subscription)).first() is None:
            state.db.session.add(Subscription(pco_id=f"sub-{church}", name="people",
                                              url="https://x.example/", secret=f"s-{church}"))  # fmt: skip
            state.db.session.commit()
    client = site.test_client()
    for _ in range(count):
        raw = delivery_body("people.v2.events.person.updated", person_resource("90000104"))
        client.post(WEBHOOK_URL, data=raw, headers={
            "Content-Type": "application/json",
            "X-PCO-Webhooks-Authenticity": sign_body(raw, f"s-{church}"),
        })  # fmt: skip


def queued(church: str) -> int:
    """The church's deliveries no worker has taken yet (whatever applying them then met)."""
    with use_organization(church):
        return len(webhook_queue())


def test_each_church_s_jobs_wait_in_its_own_queue(site: Flask) -> None:
    assert church_queue(GRACE).name == "pco-church-1"
    assert church_queue(HOPE).name == "pco-church-2"
    assert church_queue(None).name == "pco"


def test_a_church_s_first_queue_wakes_the_workers_once(site: Flask) -> None:
    church_queue(GRACE)
    church_queue(GRACE)
    church_queue(HOPE)

    assert church_queue(None).job_ids == [WAKE_UP_JOB_ID]


def test_a_worker_started_before_a_church_s_first_job_serves_it(site: Flask) -> None:
    worker = make_worker(simple=True)
    with use_organization(HOPE):
        run = start_sync("pull", "people", mode="enqueue", trigger="cli")

    worker.work(burst=True)

    with use_organization(HOPE):
        state = current_pco()
        state.db.session.rollback()
        assert state.db.session.get(state.models.SyncRun, run.id).status == "succeeded"


def test_workers_take_the_churches_jobs_in_turn(one_per_job: Flask) -> None:
    deliver(one_per_job, GRACE, 6)  # a backlog
    deliver(one_per_job, HOPE, 1)
    church_queue(None).empty()  # the wake-up job

    make_worker(simple=True).work(burst=True, max_jobs=2)

    assert (queued(GRACE), queued(HOPE)) == (5, 0)


def queue_push(church: str) -> Any:
    """The church's ``push people`` run, queued for the workers."""
    with use_organization(church):
        return start_sync("push", "people", mode="enqueue", trigger="cli")


def run_status(church: str, run_id: int) -> str:
    with use_organization(church):
        state = current_pco()
        state.db.session.rollback()
        return str(state.db.session.get(state.models.SyncRun, run_id).status)


def test_each_church_s_deliveries_wait_in_a_queue_of_their_own(site: Flask) -> None:
    with use_organization(HOPE):
        assert webhook_queue().name == "pco-church-2-webhooks"
    assert webhook_queue().name == "pco-webhooks"


def test_a_church_s_delivery_goes_before_its_own_queued_push(one_per_job: Flask) -> None:
    run = queue_push(GRACE)
    deliver(one_per_job, GRACE, 1)  # queued after the push
    church_queue(None).empty()

    make_worker(simple=True).work(burst=True, max_jobs=1)

    assert queued(GRACE) == 0
    assert run_status(GRACE, run.id) == "queued"


def test_deliveries_go_before_runs_and_the_churches_still_take_turns(one_per_job: Flask) -> None:
    run = queue_push(HOPE)
    deliver(one_per_job, GRACE, 6)
    deliver(one_per_job, HOPE, 1)
    church_queue(None).empty()

    make_worker(simple=True).work(burst=True, max_jobs=2)

    assert (queued(GRACE), queued(HOPE)) == (5, 0)
    assert run_status(HOPE, run.id) == "queued"


def test_another_church_s_deliveries_do_not_hold_back_a_church_s_run(one_per_job: Flask) -> None:
    run = queue_push(HOPE)
    deliver(one_per_job, GRACE, 6)  # a storm at Grace: Hope's budget must not idle behind it
    church_queue(None).empty()

    make_worker(simple=True).work(burst=True, max_jobs=2)

    assert queued(GRACE) == 5
    assert run_status(HOPE, run.id) != "queued"


def test_after_a_church_s_delivery_the_next_church_has_its_turn_before_that_church_s_run(
    one_per_job: Flask,
) -> None:
    run = queue_push(GRACE)
    deliver(one_per_job, GRACE, 1)
    deliver(one_per_job, HOPE, 1)
    church_queue(None).empty()

    make_worker(simple=True).work(burst=True, max_jobs=2)

    assert (queued(GRACE), queued(HOPE)) == (0, 0)
    assert run_status(GRACE, run.id) == "queued"


def test_a_retry_due_in_a_queue_that_appeared_later_is_queued_again(site: Flask) -> None:
    worker = make_worker(simple=True)  # before Hope's queue exists
    queue = church_queue(HOPE)
    job = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), wake_up_job)
    assert queue.job_ids == []

    move_due_retries(worker, "pco")

    assert queue.job_ids == [job.id]
