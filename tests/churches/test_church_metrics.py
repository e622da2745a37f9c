"""The metrics of a site of many churches: each figure labelled with its church, one church's
runs, deliveries and PCO requests never counted as another's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from flask_pco.jobs.queue import start_sync
from flask_pco.sandbox import SandboxServer
from flask_pco.tenancy import use_organization

from .conftest import GRACE, HOPE, connected_site
from .test_shared_workers import deliver

TOKEN = "scrape-token-456"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def metrics_site(
    database_url: str, redis_url: str, two_organizations: SandboxServer
) -> Iterator[Flask]:
    with connected_site(database_url, redis_url, two_organizations, PCO_METRICS_TOKEN=TOKEN) as app:
        yield app


def scrape(site: Flask) -> Samples:
    answer = site.test_client().get("/api/pco/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def by_church(samples: Samples, name: str) -> dict[str, float]:
    """A metric's total per church."""
    totals: dict[str, float] = {}
    for (sample, labels), value in samples.items():
        if sample == name:
            church = dict(labels)["organization"]
            totals[church] = totals.get(church, 0) + value
    return totals


def test_each_church_s_runs_are_labelled_with_it(metrics_site: Flask) -> None:
    with use_organization(GRACE):
        start_sync("pull", "people", mode="inline", trigger="cli")

    assert by_church(scrape(metrics_site), "pco_sync_runs_total") == {GRACE: 1}


def test_each_church_s_deliveries_are_labelled_with_it(metrics_site: Flask) -> None:
    deliver(metrics_site, HOPE, 2)

    assert by_church(scrape(metrics_site), "pco_webhook_deliveries_total") == {HOPE: 2}


def test_each_church_s_pco_requests_are_counted_as_its_own(metrics_site: Flask) -> None:
    with use_organization(GRACE):
        start_sync("pull", "people", mode="inline", trigger="cli")

    used = by_church(scrape(metrics_site), "pco_sync_requests_total")

    assert used.get(GRACE, 0) > 0
    assert used.get(HOPE, 0) == 0


def test_each_church_s_rate_budget_is_reported_apart(metrics_site: Flask) -> None:
    limits = by_church(scrape(metrics_site), "pco_api_rate_limit")

    assert set(limits) == {GRACE, HOPE}
