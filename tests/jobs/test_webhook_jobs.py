"""Webhook deliveries handed to RQ: one job per delivery, retried only when that can help."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from rq.job import Job, JobStatus

from flask_pco.exceptions import ConfigError
from flask_pco.jobs.queue import enqueue_webhook, webhook_queue


def test_delivery_job_has_a_deterministic_id_and_retries(redis_app: Flask) -> None:
    enqueue_webhook(41)
    job = Job.fetch("pco-test-app-id-webhook-41", connection=webhook_queue().connection)
    assert job.func_name == "flask_pco.jobs.queue.apply_webhook_job"
    assert job.args == (41,)
    assert (job.retries_left, job.retry_intervals) == (3, [10, 30, 60])


def test_delivery_enqueued_twice_is_one_job(redis_app: Flask) -> None:
    enqueue_webhook(41)
    enqueue_webhook(41)
    assert webhook_queue().get_job_ids() == ["pco-test-app-id-webhook-41"]


def test_missing_delivery_fails_its_job_without_retries(redis_app: Flask, work: Any) -> None:
    enqueue_webhook(404)
    work()
    job = Job.fetch("pco-test-app-id-webhook-404", connection=webhook_queue().connection)
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0
    assert "no webhook delivery with id 404" in job.latest_result().exc_string


def test_enqueue_mode_needs_redis(app: Flask) -> None:
    with pytest.raises(ConfigError, match="PCO_REDIS_URL"):
        enqueue_webhook(1, mode="enqueue")
