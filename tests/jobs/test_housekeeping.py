"""The hourly webhook housekeeping of a single church connected to Planning Center only
through "Connect Planning Center" (OAuth): its subscriptions are checked and mended with the
stored connection, as a site with a Personal Access Token has them checked."""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq.job import Job

from flask_pco.extension import current_pco
from flask_pco.jobs.queue import sync_queue
from flask_pco.sandbox import SandboxServer
from flask_pco.sync.webhooks.subscriptions import install_subscriptions


def in_pco(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return list(sandbox.sandbox.store.tables["Subscription"].values())


def test_the_hourly_job_mends_a_subscription_with_the_oauth_connection(
    oauth_only_app: Flask, oauth_sandbox: SandboxServer, work: Any
) -> None:
    install_subscriptions(current_pco())
    first = in_pco(oauth_sandbox)[0]
    oauth_sandbox.control.edit_subscription(first["id"], active=False)

    job = sync_queue().enqueue("flask_pco.jobs.queue.webhook_housekeeping_job")
    work()

    assert not current_pco().config.has_credentials
    assert all(s["active"] for s in in_pco(oauth_sandbox))
    said = Job.fetch(job.id, connection=job.connection).return_value()
    assert said == "0 deliveries applied again; 1 subscriptions mended"
