"""Read-only PCO views, as JSON and as admin tabs, against the live sandbox."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_pco.mapping.readonly import VIEWS
from flask_pco.sandbox import SandboxServer
from tests.conftest import make_app
from tests.helpers import sandbox_settings

from .conftest import ADMIN_URL, log_in, make_user


def pco_gets(sandbox: SandboxServer, prefix: str) -> list[str]:
    return [r["path"] for r in sandbox.control.requests() if r["path"].startswith(prefix)]


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_view_returns_sandbox_rows_as_json(admin_client: FlaskClient, name: str) -> None:
    body = admin_client.get(f"/api/pco/{name}").get_json()
    assert body["page"] == 1 and body["per_page"] == 25
    assert body["data"], f"the sandbox has {name}"
    assert all(row["id"] for row in body["data"])


def test_checkins_carry_name_security_code_kind_and_times(admin_client: FlaskClient) -> None:
    row = admin_client.get("/api/pco/checkins").get_json()["data"][0]
    assert row["name"] and len(row["security_code"]) == 4
    assert row["kind"]
    assert row["created_at"].endswith("+00:00")


def test_calendar_events_carry_dates_recurrence_and_location(admin_client: FlaskClient) -> None:
    row = admin_client.get("/api/pco/calendar-events").get_json()["data"][0]
    assert row["name"] and row["starts_at"] and row["ends_at"]
    assert {"description", "recurrence", "location", "all_day"} <= set(row)


def test_group_types_carry_church_center_visibility(admin_client: FlaskClient) -> None:
    row = admin_client.get("/api/pco/group-types").get_json()["data"][0]
    assert isinstance(row["church_center_visible"], bool)


def test_a_page_is_one_pco_request_at_the_right_offset(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    sandbox.control.clear_requests()
    body = admin_client.get("/api/pco/calendar-events?page=2").get_json()
    [path] = pco_gets(sandbox, "/calendar/v2/event_instances")
    assert "offset=25" in path and "per_page=25" in path
    assert body["page"] == 2


def test_a_second_view_within_the_cache_time_costs_no_request(
    admin_client: FlaskClient, sandbox: SandboxServer
) -> None:
    sandbox.control.clear_requests()
    first = admin_client.get("/api/pco/labels").get_json()
    second = admin_client.get(f"{ADMIN_URL}pco/labels")
    assert second.status_code == 200
    assert len(pco_gets(sandbox, "/check-ins/v2/labels")) == 1
    assert first["data"][0]["name"] in second.get_data(as_text=True)


def test_without_caching_every_view_asks_pco(database_url: str, sandbox: SandboxServer) -> None:
    app = make_app(database_url, **sandbox_settings(sandbox.url, PCO_READONLY_CACHE_SECONDS=0))
    with app.app_context():
        client = log_in(app.test_client(), make_user("admin"))
        sandbox.control.clear_requests()
        client.get("/api/pco/stations")
        client.get("/api/pco/stations")
    assert len(pco_gets(sandbox, "/check-ins/v2/stations")) == 2


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1001"])
def test_a_bad_page_number_is_a_400(admin_client: FlaskClient, page: str) -> None:
    assert admin_client.get(f"/api/pco/checkins?page={page}").status_code == 400


def test_an_unknown_view_is_a_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/api/pco/people-secrets").status_code == 404
    assert admin_client.get(f"{ADMIN_URL}pco/people-secrets").status_code == 404


def test_the_tab_renders_a_table_of_sandbox_data(admin_client: FlaskClient) -> None:
    names = [row["name"] for row in admin_client.get("/api/pco/checkin-events").get_json()["data"]]
    html = admin_client.get(f"{ADMIN_URL}pco/checkin-events").get_data(as_text=True)
    assert all(name in html for name in names)
    assert 'aria-current="page">Check-in events' in html


def test_the_tab_links_to_the_next_page_when_pco_has_more(admin_client: FlaskClient) -> None:
    html = admin_client.get(f"{ADMIN_URL}pco/calendar-events").get_data(as_text=True)
    assert f"{ADMIN_URL}pco/calendar-events?page=2" in html


def test_the_tab_answers_htmx_with_the_table_alone(admin_client: FlaskClient) -> None:
    html = admin_client.get(f"{ADMIN_URL}pco/stations", headers={"HX-Request": "true"})
    text = html.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="pco-readonly"')


@pytest.fixture
def broken_app(database_url: str, sandbox: SandboxServer) -> Flask:
    app = make_app(database_url, PCO_API_URL=sandbox.url, PCO_APP_ID="sandbox", PCO_SECRET="nope")
    return app


def test_a_pco_failure_is_a_502_with_the_reason(broken_app: Flask) -> None:
    with broken_app.app_context():
        client = log_in(broken_app.test_client(), make_user("admin"))
        response = client.get("/api/pco/checkins")
        assert response.status_code == 502
        assert "PCO did not answer" in response.get_json()["error"]
        html = client.get(f"{ADMIN_URL}pco/checkins").get_data(as_text=True)
        assert "Could not load check-ins" in html


def test_missing_credentials_are_a_503(database_url: str) -> None:
    app = make_app(database_url, PCO_APP_ID="", PCO_SECRET="")
    with app.app_context():
        client = log_in(app.test_client(), make_user("admin"))
        response = client.get("/api/pco/checkins")
    assert response.status_code == 503
    assert "PCO_APP_ID" in response.get_json()["error"]
