"""``/api/pco/metrics``: Prometheus figures read from the database, behind a bearer token, and
absent unless the host sets ``PCO_METRICS_TOKEN``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_app

from .conftest import make_issue, make_run

TOKEN = "scrape-token-123"
URL = "/api/pco/metrics"


@pytest.fixture
def metrics_app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url, PCO_METRICS_TOKEN=TOKEN, PCO_API_URL="http://127.0.0.1:9")
    with application.app_context():
        yield application


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.test_client().get(URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_runs_records_and_requests_after_known_runs(metrics_app: Flask) -> None:
    make_run(
        "succeeded", direction="pull", sync_type="people", created=5, updated=2, requests_used=7
    )
    make_run("failed", direction="push", sync_type="people", failed=1, requests_used=3)

    values = scrape(metrics_app)

    runs = "pco_sync_runs_total"
    assert (
        values[(runs, (("direction", "pull"), ("status", "succeeded"), ("sync_type", "people")))]
        == 1
    )
    assert (
        values[(runs, (("direction", "push"), ("status", "failed"), ("sync_type", "people")))] == 1
    )
    records = "pco_sync_records_total"
    assert values[(records, (("direction", "pull"), ("outcome", "created")))] == 5
    assert values[(records, (("direction", "push"), ("outcome", "failed")))] == 1
    assert values[("pco_sync_requests_total", (("direction", "pull"),))] == 7
    assert ("pco_sync_last_success_timestamp_seconds", (("direction", "pull"),)) in values
    assert ("pco_sync_last_success_timestamp_seconds", (("direction", "push"),)) not in values


def test_health_is_one_state_at_a_time(metrics_app: Flask) -> None:
    run = make_run("succeeded", direction="pull", sync_type="people")
    make_issue(kind="invalid", run_id=run.id, candidates=[], reason="not written")

    values = scrape(metrics_app)

    states = {
        dict(labels)["state"]: v
        for (name, labels), v in values.items()
        if name == "pco_sync_health"
    }
    assert states == {"failing": 0, "stale": 0, "degraded": 1, "healthy": 0}
    assert values[("pco_sync_queued_runs", ())] == 0


def test_a_scrape_without_the_token_is_refused(metrics_app: Flask) -> None:
    client = metrics_app.test_client()

    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_there_is_no_endpoint_without_a_token(app: Any) -> None:
    response = app.test_client().get(URL)

    assert "pco_metrics" not in app.blueprints
    assert response.status_code != 200 and b"pco_sync_runs" not in response.data


def test_pco_answers_by_status_and_429s_are_counted_across_processes(
    database_url: str, redis_url: str, sandbox: Any
) -> None:
    from tests.helpers import sandbox_settings

    settings = sandbox_settings(sandbox.url, PCO_METRICS_TOKEN=TOKEN, PCO_REDIS_URL=redis_url)
    worker, web = make_app(database_url, **settings), make_app(database_url, **settings)
    sandbox.control.set_faults(storm_seconds=1)  # PCO answers 429 for a second
    with worker.app_context():
        from flask_pco.state import current_pco

        current_pco().client().get("/people/v2")  # waits out the 429, then 200
    sandbox.control.set_faults()
    with web.app_context():  # another process: it sees the worker's counts through Redis
        values = scrape(web)
    assert values[("pco_api_requests_total", (("status", "429"),))] >= 1
    assert values[("pco_api_requests_total", (("status", "200"),))] >= 1
    assert values[("pco_api_rate_limit", ())] == 100
    assert values[("pco_api_budget_used", ())] >= 2
