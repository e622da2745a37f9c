"""With Redis, the route stores and queues; an RQ worker applies; failures are kept for a retry."""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker

from example_app.models import Person, db
from flask_pco import current_pco
from flask_pco.jobs.queue import sync_queue, webhook_queue
from flask_pco.jobs.webhooks import check_webhook_gap
from flask_pco.sync.webhooks.events import retry_failed_deliveries
from tests.sync.webhooks.conftest import deliveries


def work() -> None:
    """Drain both queues, webhook deliveries first, as a worker does."""
    queues = [webhook_queue(), sync_queue()]
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


def test_with_redis_the_route_stores_and_a_worker_applies(queued):
    pco_id = queued.add_pco_person("Ruth", "Moab")

    queued.post(queued.person_event("created", pco_id))

    assert [d.status for d in deliveries(db)] == ["received"]
    assert queued.local(pco_id) is None
    work()
    assert [d.status for d in deliveries(db)] == ["applied"]
    assert queued.local(pco_id).first_name == "Ruth"


def test_a_job_run_twice_applies_once(queued):
    pco_id = queued.add_pco_person("Ruth", "Moab")
    queued.post(queued.person_event("created", pco_id))
    [delivery] = deliveries(db)
    sync_queue().enqueue("flask_pco.jobs.queue.apply_webhook_job", delivery.id)
    queued.sandbox.control.clear_requests()

    work()

    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    assert len([r for r in queued.pco_requests() if f"/people/{pco_id}" in r]) == 1


def test_failed_delivery_is_kept_and_retried_when_pco_accepts_us_again(queued):
    pco_id = queued.add_pco_person("Ruth", "Moab")
    settings = queued.sandbox.sandbox.settings
    settings.secret = "revoked"  # PCO refuses our token: the apply fails, nothing is lost
    queued.post(queued.person_event("created", pco_id))

    work()

    [delivery] = deliveries(db)
    assert delivery.status == "failed"
    assert "AuthenticationError" in delivery.error_message
    assert queued.local(pco_id) is None
    settings.secret = "sandbox-secret"
    assert retry_failed_deliveries(current_pco()) == 1
    assert queued.local(pco_id).first_name == "Ruth"


def add_delivery(received_at: Any) -> None:
    from example_app import pco

    db.session.add(
        pco.models.WebhookDelivery(
            event_id=f"e-{received_at.isoformat()}",
            name="people.v2.events.person.updated",
            payload="{}",
            status="applied",
            received_at=received_at,
        )
    )
    db.session.commit()


def sync_runs() -> list[Any]:
    from example_app import pco

    db.session.expire_all()
    return list(db.session.scalars(db.select(pco.models.SyncRun)))


def hours_ago(hours: float) -> Any:
    from datetime import timedelta

    from flask_pco.models import utcnow

    return utcnow() - timedelta(hours=hours)


def test_recent_delivery_means_no_catch_up(queued):
    add_delivery(hours_ago(1))

    assert check_webhook_gap(current_pco()) is False
    assert sync_runs() == []


def test_gap_in_deliveries_queues_one_incremental_catch_up_pull(queued):
    add_delivery(hours_ago(7))  # PCO_WEBHOOK_GAP defaults to 6 hours

    assert check_webhook_gap(current_pco()) is True
    assert check_webhook_gap(current_pco()) is False  # one catch-up per gap

    [run] = sync_runs()
    assert (run.direction, run.sync_type, run.incremental, run.trigger) == (
        "pull",
        "full",
        True,
        "webhook-gap",
    )
    assert run.options == {"steps": ["people", "families", "groups"]}
    assert sync_queue().count == 1


def test_gap_while_a_sync_runs_queues_nothing_more(queued):
    from flask_pco.jobs.queue import start_sync

    add_delivery(hours_ago(7))
    start_sync("pull", "people", trigger="admin")

    assert check_webhook_gap(current_pco()) is False
    assert len(sync_runs()) == 1


def test_housekeeping_retries_failed_deliveries_and_checks_the_gap(queued):
    from flask_pco.jobs.webhooks import webhook_housekeeping

    pco_id = queued.add_pco_person("Ruth", "Moab")
    queued.sandbox.sandbox.settings.secret = "revoked"
    queued.post(queued.person_event("created", pco_id))
    work()
    queued.sandbox.sandbox.settings.secret = "sandbox-secret"

    result = webhook_housekeeping(current_pco())

    assert (result.deliveries_retried, result.catch_up_queued) == (1, False)
    assert queued.local(pco_id).first_name == "Ruth"
