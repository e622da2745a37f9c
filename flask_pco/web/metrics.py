"""``GET /api/pco/metrics``: what the sync has done, for Prometheus (``prometheus-client``).

Mounted only when the host sets ``PCO_METRICS_TOKEN`` and installs the ``metrics`` extra; a
scraper sends the token as ``Authorization: Bearer ...`` (a scraper cannot log in to the admin
page). Every figure is read from the database at scrape time, so every process (web, workers,
CLI) is counted without a shared registry: runs by type and status, records by outcome,
requests made to PCO, webhook deliveries by status, runs waiting in the queue, the last
successes, and the health state. PCO's answers by status (429s included) and the budget used
come from the shared rate limiter (Redis), so they too cover every process.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from flask_pco.jobs.health import SEVERITY, health
from flask_pco.state import PcoState, current_pco
from flask_pco.sync.context import OUTCOMES

__all__ = ["metrics_blueprint"]

metrics_blueprint = Blueprint("pco_metrics", __name__, url_prefix="/api/pco")


@metrics_blueprint.get("/metrics")
def metrics() -> Response:
    state = current_pco()
    token = state.config.metrics_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token:
        abort(404)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("a bearer token is required\n", 401, {"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncCollector(state))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


class SyncCollector(Collector):
    """The sync log, the webhook deliveries and the health state, as metric families."""

    def __init__(self, state: PcoState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        yield from self._runs()
        yield self._deliveries()
        yield self._queued()
        yield self._health()
        yield from self._pco()

    def _runs(self) -> Iterator[Metric]:
        SyncRun = self.state.models.SyncRun
        top = SyncRun.parent_id.is_(None) & SyncRun.dry_run.is_(False)
        session = self.state.db.session
        runs = CounterMetricFamily(
            "pco_sync_runs",
            "Sync runs by direction, type and status",
            labels=["direction", "sync_type", "status"],
        )
        for direction, sync_type, status, count in session.execute(
            select(SyncRun.direction, SyncRun.sync_type, SyncRun.status, func.count())
            .where(top)
            .group_by(SyncRun.direction, SyncRun.sync_type, SyncRun.status)
        ):
            runs.add_metric([direction, sync_type, status], count)
        yield runs
        records = CounterMetricFamily(
            "pco_sync_records",
            "Records the runs went through, by outcome",
            labels=["direction", "outcome"],
        )
        requests = CounterMetricFamily(
            "pco_sync_requests", "Requests the runs made to PCO", labels=["direction"]
        )
        last = GaugeMetricFamily(
            "pco_sync_last_success_timestamp_seconds",
            "When the last successful run of a direction finished (Unix time)",
            labels=["direction"],
        )
        columns = [func.coalesce(func.sum(getattr(SyncRun, o)), 0) for o in OUTCOMES]
        for direction, *totals in session.execute(
            select(SyncRun.direction, *columns, func.coalesce(func.sum(SyncRun.requests_used), 0))
            .where(top)
            .group_by(SyncRun.direction)
        ):
            *outcomes, used = totals
            for outcome, total in zip(OUTCOMES, outcomes, strict=True):
                records.add_metric([direction, outcome], total)
            requests.add_metric([direction], used)
        for direction, finished in session.execute(
            select(SyncRun.direction, func.max(SyncRun.finished_at))
            .where(top, SyncRun.status == "succeeded")
            .group_by(SyncRun.direction)
        ):
            if finished is not None:
                last.add_metric([direction], _unix(finished))
        yield from (records, requests, last)

    def _deliveries(self) -> Metric:
        Delivery = self.state.models.WebhookDelivery
        family = CounterMetricFamily(
            "pco_webhook_deliveries", "Webhook deliveries received, by status", labels=["status"]
        )
        for status, count in self.state.db.session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        ):
            family.add_metric([status], count)
        return family

    def _queued(self) -> Metric:
        SyncRun = self.state.models.SyncRun
        waiting = self.state.db.session.scalar(
            select(func.count()).where(SyncRun.parent_id.is_(None), SyncRun.status == "queued")
        )
        return GaugeMetricFamily(
            "pco_sync_queued_runs", "Runs waiting for a worker", value=waiting or 0
        )

    def _health(self) -> Metric:
        current = health(self.state).state
        family = GaugeMetricFamily(
            "pco_sync_health", "1 for the current health state, 0 for the others", labels=["state"]
        )
        for name in SEVERITY:
            family.add_metric([name], 1 if name == current else 0)
        return family

    def _pco(self) -> Iterator[Metric]:
        """PCO's answers by status (429s among them) and the rate budget, as the shared
        limiter counts them: every process using the budget, when it is kept in Redis."""
        if not self.state.config.has_credentials:
            return
        limiter = self.state.client().limiter
        answers = CounterMetricFamily(
            "pco_api_requests",
            "Requests sent to PCO by the answer's HTTP status ('error': no answer)",
            labels=["status"],
        )
        for status, count in sorted(limiter.answers().items()):
            answers.add_metric([status], count)
        yield answers
        yield GaugeMetricFamily(
            "pco_api_rate_limit", "Requests PCO allows per period", value=limiter.limit
        )
        _, remaining = limiter.window_stats()
        yield GaugeMetricFamily(
            "pco_api_budget_used",
            "Requests of the current rate window already used",
            value=max(limiter.limit - remaining, 0),
        )


def _unix(moment: datetime) -> float:
    """A naive UTC time, as the sync log stores it, as Unix time."""
    return moment.replace(tzinfo=UTC).timestamp()
