"""test_connection and build_client: one-line reasons an admin can act on."""

from __future__ import annotations

import pytest
import requests
import responses

from flask_pco.client import BasicAuth, ConnectionInfo, OAuth2Auth, PcoClient, build_client
from flask_pco.client import test_connection as check_connection
from flask_pco.exceptions import AuthenticationError, ConfigError, ServerError, TransportError

from .conftest import BASE, add, example

ORGANIZATION = {
    "data": {
        "type": "Organization",
        "id": "300001",
        "attributes": {"name": "Example Church", "time_zone": "America/New_York"},
    },
    "included": [],
    "meta": {},
}


def test_a_working_connection_reports_the_organisation_and_budget(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2", ORGANIZATION)
    assert check_connection(pco) == ConnectionInfo("Example Church", "America/New_York", 100, 20, 1)


def test_bad_credentials_are_named(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", "/people/v2", example("error_401_unauthorized"), status=401)
    with pytest.raises(AuthenticationError, match=r"^bad credentials: "):
        check_connection(pco)


def test_an_unreachable_host_is_named(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    mocked.add("GET", f"{BASE}/people/v2", body=requests.ConnectionError("refused"))
    with pytest.raises(TransportError, match=f"^cannot reach {BASE}"):
        check_connection(pco)


def test_a_pco_outage_is_not_blamed_on_the_settings(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    mocked.add("GET", f"{BASE}/people/v2", json={"errors": [{"status": "500"}]}, status=500)
    with pytest.raises(ServerError, match="a problem on its side") as raised:
        check_connection(pco)
    assert "PCO_API_URL" not in str(raised.value)


def test_a_url_that_is_not_pco_is_named(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    mocked.add("GET", f"{BASE}/people/v2", body="<html>", status=404, content_type="text/html")
    with pytest.raises(ConfigError, match=r"does not answer like the PCO API.*PCO_API_URL"):
        check_connection(pco)


def test_a_json_answer_without_an_organisation_is_not_pco(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2", {"data": []})
    with pytest.raises(ConfigError, match="no Organization"):
        check_connection(pco)


def test_build_client_uses_the_personal_access_token() -> None:
    with build_client(base_url=BASE + "/", app_id="app", secret="s") as client:
        assert isinstance(client.auth, BasicAuth)
        assert client.base_url == BASE
        assert not client.limiter.shared


def test_build_client_prefers_an_oauth_access_token() -> None:
    with build_client(base_url=BASE, app_id="app", secret="s", access_token="tok") as client:
        assert isinstance(client.auth, OAuth2Auth)


def test_build_client_shares_the_budget_in_redis_under_the_organisation_key(redis_url: str) -> None:
    with build_client(
        base_url=BASE,
        app_id="app",
        secret="s",
        redis_url=redis_url,
        organization_key="church-1",
        rate_limit=50,
        rate_period=10,
    ) as client:
        assert client.limiter.shared
        assert client.limiter.key == "church-1"
        assert (client.limiter.limit, client.limiter.period) == (50, 10)


def test_build_client_without_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="PCO_APP_ID"):
        build_client(base_url=BASE)
