"""Fair shares of shared workers: a webhook batch gives way to another church's deliveries,
workers start their round-robin at different churches, and a church resting its spent rate
budget is left alone until it has room again."""

from __future__ import annotations

import pytest
from flask import Flask
from rq import Queue
from rq.executions import Execution

from flask_pco.jobs import webhook_batch
from flask_pco.jobs.fairness import (
    FairQueue,
    other_work_waiting,
    own_deliveries_waiting,
    rest_church,
    resting,
    stagger,
)
from flask_pco.jobs.queue import start_sync, sync_queue, webhook_queue
from flask_pco.jobs.workers import make_worker
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization

from .conftest import GRACE, HOPE
from .test_shared_workers import deliver, queued


def test_a_webhook_batch_gives_way_when_another_church_s_delivery_waits(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_batch, "FAIR_SECONDS", 0.0)  # its share is spent at once
    deliver(site, GRACE, 3)
    deliver(site, HOPE, 3)
    sync_queue().empty()  # the site's wake-up job

    make_worker(simple=True).work(burst=True, max_jobs=2)

    assert (queued(GRACE), queued(HOPE)) == (2, 2)  # one each, then the other's turn


def test_a_webhook_batch_takes_its_church_s_deliveries_while_no_other_waits(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_batch, "FAIR_SECONDS", 0.0)
    deliver(site, GRACE, 3)
    sync_queue().empty()

    make_worker(simple=True).work(burst=True, max_jobs=1)

    assert queued(GRACE) == 0


def test_workers_start_their_round_robin_at_different_churches() -> None:
    churches = [f"pco-church-{n}" for n in range(10)]
    firsts = set()
    for worker in ("worker-a", "worker-b", "worker-c", "worker-d"):
        queues = list(churches)
        stagger(queues, worker)
        assert sorted(queues) == sorted(churches)
        firsts.add(queues[0])

    assert len(firsts) > 1


def test_a_resting_church_s_runs_wait_while_another_s_are_taken(site: Flask) -> None:
    sync_queue().empty()  # the site's wake-up job
    runs = {}
    for church in (GRACE, HOPE):
        with use_organization(church):
            start_sync("push", "people", mode="enqueue", trigger="cli")
            runs[church] = sync_queue()
    with use_organization(GRACE):
        rest_church(current_pco(), 60)
    queues = [runs[GRACE], runs[HOPE]]

    job, _ = FairQueue.dequeue_any(queues, None, connection=runs[GRACE].connection)

    assert job.id == "pco-church-2-push-people"
    assert FairQueue.dequeue_any(queues, None, connection=runs[GRACE].connection) is None


def test_a_church_resting_its_runs_only_still_has_its_deliveries_taken(site: Flask) -> None:
    deliver(site, GRACE, 1)
    sync_queue().empty()
    with use_organization(GRACE):
        rest_church(current_pco(), 60, deliveries=False)  # a slice left them its requests

    make_worker(simple=True).work(burst=True, max_jobs=1)

    assert queued(GRACE) == 0


def test_a_rest_covers_both_of_the_church_s_queues(site: Flask) -> None:
    with use_organization(GRACE):
        rest_church(current_pco(), 60)
    names = ["pco-church-1", "pco-church-1-webhooks", "pco-church-2", "pco-church-2-webhooks"]

    assert sorted(resting(sync_queue().connection, names)) == names[:2]


def test_a_shorter_rest_never_cuts_a_longer_one_short(site: Flask) -> None:
    with use_organization(GRACE):
        rest_church(current_pco(), 60)  # a spent slice's rest
        rest_church(current_pco(), 1)  # a job's short wait for the budget

    left = resting(sync_queue().connection, ["pco-church-1", "pco-church-1-webhooks"])

    assert min(left.values()) > 50


def test_a_rest_of_the_runs_only_leaves_the_webhook_queue_awake(site: Flask) -> None:
    with use_organization(GRACE):
        rest_church(current_pco(), 60, deliveries=False)
    names = ["pco-church-1", "pco-church-1-webhooks", "pco-church-2", "pco-church-2-webhooks"]

    assert sorted(resting(sync_queue().connection, names)) == ["pco-church-1"]


def test_a_church_s_run_waits_while_its_own_deliveries_wait(site: Flask) -> None:
    with use_organization(GRACE):
        start_sync("push", "people", mode="enqueue", trigger="cli")
        runs = sync_queue()
    deliver(site, GRACE, 1)
    connection = runs.connection

    assert FairQueue.dequeue_any([runs], None, connection=connection) is None
    with use_organization(GRACE):
        webhook_queue().empty()
    job, _ = FairQueue.dequeue_any([runs], None, connection=connection)
    assert job.id == "pco-church-1-push-people"


def applying(site: Flask, church: str, count: int) -> Queue:
    """``count`` deliveries of the church, the first taken by a worker that applies it (and
    the others, as they come): its webhook queue."""
    deliver(site, church, count)
    with use_organization(church):
        deliveries = webhook_queue()
    connection = deliveries.connection
    job, _ = Queue.dequeue_any([deliveries], None, connection=connection)
    with connection.pipeline() as pipe:
        Execution.create(job, ttl=60, pipeline=pipe)
        pipe.execute()
    return deliveries


def test_a_church_s_run_goes_on_beside_a_delivery_being_applied(site: Flask) -> None:
    with use_organization(GRACE):
        start_sync("push", "people", mode="enqueue", trigger="cli")
        runs = sync_queue()
    applying(site, GRACE, 2)
    with use_organization(GRACE):
        assert own_deliveries_waiting(current_pco()) is False

    job, _ = FairQueue.dequeue_any([runs], None, connection=runs.connection)

    assert job.id == "pco-church-1-push-people"


def test_no_second_worker_joins_a_church_s_deliveries_being_applied(site: Flask) -> None:
    deliveries = applying(site, GRACE, 2)

    assert FairQueue.dequeue_any([deliveries], None, connection=deliveries.connection) is None
    assert len(deliveries) == 1  # the running job takes it


def test_deliveries_being_applied_are_no_other_work_waiting(site: Flask) -> None:
    applying(site, HOPE, 2)
    sync_queue().empty()  # the site's wake-up job

    with use_organization(GRACE):
        assert other_work_waiting(current_pco()) is False


def test_a_single_church_site_s_deliveries_may_be_applied_side_by_side(site: Flask) -> None:
    deliveries = Queue(f"{sync_queue().name}-webhooks", connection=sync_queue().connection)
    for n in range(2):
        deliveries.enqueue(print, n, job_id=f"site-delivery-{n}")
    job, _ = Queue.dequeue_any([deliveries], None, connection=deliveries.connection)
    with deliveries.connection.pipeline() as pipe:  # one worker applies the first
        Execution.create(job, ttl=60, pipeline=pipe)
        pipe.execute()

    second, _ = FairQueue.dequeue_any([deliveries], None, connection=deliveries.connection)

    assert second.id == "site-delivery-1"  # as before: only churches' deliveries are serial
