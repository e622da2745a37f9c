"""``GET /api/pco/metrics``: what the sync has done, for Prometheus (``prometheus-client``).

Mounted only when the host sets ``PCO_METRICS_TOKEN`` and installs the ``metrics`` extra; a
scraper sends the token as ``Authorization: Bearer ...`` (a scraper cannot log in to the admin
page). Every figure is read from the database at scrape time, so every process (web, workers,
CLI) is counted without a shared registry: runs by type and status, records by outcome,
requests made to PCO, webhook deliveries by status, runs waiting in the queue, the last
successes, and the health state. PCO's answers by status (429s included) and the budget used
come from the shared rate limiter (Redis), so they too cover every process.

On a site of many churches every figure carries an ``organization`` label (the site's id of the
church), and a scrape (a scraper belongs to no church) reports every connected church.
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

from flask_pco.jobs.churches import can_reach_pco, each_church
from flask_pco.jobs.health import SEVERITY, health
from flask_pco.state import PcoState, current_pco
from flask_pco.sync.context import OUTCOMES
from flask_pco.tenancy import use_organization

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


def _churches(state: PcoState) -> list[str | None]:
    """The churches a scrape reports: the one in use, if any, else every connected church of
    a site of many; ``[None]`` on a single-church site."""
    if state.organization is not None:
        return [state.organization]
    return each_church(state)


class SyncCollector(Collector):
    """The sync log, the webhook deliveries and the health state, as metric families; on a
    site of many churches each figure is labelled with its church (``organization``), so one
    church's runs, deliveries, requests and budget are never added to another's."""

    def __init__(self, state: PcoState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        many = self.state.extension._organization_loader is not None
        families = _Families(["organization"] if many else [])
        for church in _churches(self.state):
            with use_organization(church):
                families.fill(current_pco(), [church] if many and church is not None else [])
        yield from families.all()


class _Families:
    """Every metric family, filled church by church; ``extra``: the church label, if any."""

    def __init__(self, extra: list[str]) -> None:
        def labels(*names: str) -> list[str]:
            return [*names, *extra]

        self.runs = CounterMetricFamily(
            "pco_sync_runs",
            "Sync runs by direction, type and status",
            labels=labels("direction", "sync_type", "status"),
        )
        self.records = CounterMetricFamily(
            "pco_sync_records",
            "Records the runs went through, by outcome",
            labels=labels("direction", "outcome"),
        )
        self.requests = CounterMetricFamily(
            "pco_sync_requests", "Requests the runs made to PCO", labels=labels("direction")
        )
        self.last = GaugeMetricFamily(
            "pco_sync_last_success_timestamp_seconds",
            "When the last successful run of a direction finished (Unix time)",
            labels=labels("direction"),
        )
        self.deliveries = CounterMetricFamily(
            "pco_webhook_deliveries",
            "Webhook deliveries received, by status",
            labels=labels("status"),
        )
        self.queued = GaugeMetricFamily(
            "pco_sync_queued_runs", "Runs waiting for a worker", labels=labels()
        )
        self.health = GaugeMetricFamily(
            "pco_sync_health",
            "1 for the current health state, 0 for the others",
            labels=labels("state"),
        )
        self.answers = CounterMetricFamily(
            "pco_api_requests",
            "Requests sent to PCO by the answer's HTTP status ('error': no answer)",
            labels=labels("status"),
        )
        self.limit = GaugeMetricFamily(
            "pco_api_rate_limit", "Requests PCO allows per period", labels=labels()
        )
        self.budget = GaugeMetricFamily(
            "pco_api_budget_used",
            "Requests of the current rate window already used",
            labels=labels(),
        )
        self.has_pco = False

    def fill(self, state: PcoState, church: list[str]) -> None:
        self._runs(state, church)
        self._deliveries(state, church)
        self._health(state, church)
        self._pco(state, church)

    def all(self) -> list[Metric]:
        families: list[Metric] = [self.runs, self.records, self.requests, self.last]
        families += [self.deliveries, self.queued, self.health]
        return families + ([self.answers, self.limit, self.budget] if self.has_pco else [])

    def _runs(self, state: PcoState, church: list[str]) -> None:
        SyncRun = state.models.SyncRun
        top = SyncRun.parent_id.is_(None) & SyncRun.dry_run.is_(False)
        session = state.db.session
        for direction, sync_type, status, count in session.execute(
            select(SyncRun.direction, SyncRun.sync_type, SyncRun.status, func.count())
            .where(top)
            .group_by(SyncRun.direction, SyncRun.sync_type, SyncRun.status)
        ):
            self.runs.add_metric([direction, sync_type, status, *church], count)
        columns = [func.coalesce(func.sum(getattr(SyncRun, o)), 0) for o in OUTCOMES]
        for direction, *totals in session.execute(
            select(SyncRun.direction, *columns, func.coalesce(func.sum(SyncRun.requests_used), 0))
            .where(top)
            .group_by(SyncRun.direction)
        ):
            *outcomes, used = totals
            for outcome, total in zip(OUTCOMES, outcomes, strict=True):
                self.records.add_metric([direction, outcome, *church], total)
            self.requests.add_metric([direction, *church], used)
        for direction, finished in session.execute(
            select(SyncRun.direction, func.max(SyncRun.finished_at))
            .where(top, SyncRun.status == "succeeded")
            .group_by(SyncRun.direction)
        ):
            if finished is not None:
                self.last.add_metric([direction, *church], _unix(finished))
        waiting = session.scalar(
            select(func.count()).where(SyncRun.parent_id.is_(None), SyncRun.status == "queued")
        )
        self.queued.add_metric(church, waiting or 0)

    def _deliveries(self, state: PcoState, church: list[str]) -> None:
        Delivery = state.models.WebhookDelivery
        for status, count in state.db.session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        ):
            self.deliveries.add_metric([status, *church], count)

    def _health(self, state: PcoState, church: list[str]) -> None:
        current = health(state).state
        for name in SEVERITY:
            self.health.add_metric([name, *church], 1 if name == current else 0)

    def _pco(self, state: PcoState, church: list[str]) -> None:
        """PCO's answers by status (429s among them) and the rate budget, as the church's
        shared limiter counts them: every process using its budget, when kept in Redis."""
        if not can_reach_pco(state):
            return
        self.has_pco = True
        limiter = state.client().limiter
        for status, count in sorted(limiter.answers().items()):
            self.answers.add_metric([status, *church], count)
        self.limit.add_metric(church, limiter.limit)
        _, remaining = limiter.window_stats()
        self.budget.add_metric(church, max(limiter.limit - remaining, 0))


def _unix(moment: datetime) -> float:
    """A naive UTC time, as the sync log stores it, as Unix time."""
    return moment.replace(tzinfo=UTC).timestamp()
