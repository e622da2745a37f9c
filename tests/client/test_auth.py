"""OAuth 2: refresh before expiry and once on a 401, rotated refresh tokens handed to the host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from flask_pco.client import OAuth2Auth, PcoClient
from flask_pco.exceptions import AuthenticationError

from .conftest import BASE, FakeTime, add, example, make_client

TOKEN_URL = f"{BASE}/oauth/token"
PATH = "/people/v2/people/90000101"


def _oauth(
    fake_time: FakeTime, saved: list[dict[str, Any]], expires_at: float | None = None
) -> OAuth2Auth:
    return OAuth2Auth(
        "old-access",
        refresh_token="old-refresh",
        expires_at=expires_at if expires_at is not None else fake_time.now + 7200,
        client_id="client-id",
        client_secret="client-secret",
        on_refresh=saved.append,
        clock=fake_time.clock,
    )


@pytest.fixture
def saved() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def oauth_client(fake_time: FakeTime, saved: list[dict[str, Any]]) -> Any:
    with make_client(fake_time, auth=_oauth(fake_time, saved)) as client:
        yield client


def test_a_bearer_token_is_sent(oauth_client: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", PATH, example("person_show"))
    oauth_client.get(PATH)
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer old-access"


def test_a_401_refreshes_the_token_and_retries_once(
    oauth_client: PcoClient, mocked: responses.RequestsMock, saved: list[dict[str, Any]]
) -> None:
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    mocked.add("POST", TOKEN_URL, json=example("oauth_token_response"))
    add(mocked, "GET", PATH, example("person_show"))
    assert oauth_client.get(PATH).data[0].id == "90000101"
    token = example("oauth_token_response")
    assert mocked.calls[2].request.headers["Authorization"] == f"Bearer {token['access_token']}"
    assert saved[0]["refresh_token"] == token["refresh_token"]
    assert saved[0]["expires_at"] == token["created_at"] + 7200


def test_the_refresh_is_form_encoded_with_the_client_credentials(
    oauth_client: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    mocked.add("POST", TOKEN_URL, json=example("oauth_token_response"))
    add(mocked, "GET", PATH, example("person_show"))
    oauth_client.get(PATH)
    form = parse_qs(str(mocked.calls[1].request.body))
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["old-refresh"],
        "client_id": ["client-id"],
        "client_secret": ["client-secret"],
    }


def test_a_second_401_after_refreshing_raises(
    oauth_client: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    mocked.add("POST", TOKEN_URL, json=example("oauth_token_response"))
    with pytest.raises(AuthenticationError, match="BABOON"):
        oauth_client.get(PATH)
    assert len([c for c in mocked.calls if c.request.url == TOKEN_URL]) == 1


def test_the_token_is_refreshed_shortly_before_it_expires(
    fake_time: FakeTime, mocked: responses.RequestsMock, saved: list[dict[str, Any]]
) -> None:
    mocked.add("POST", TOKEN_URL, json=example("oauth_token_response"))
    add(mocked, "GET", PATH, example("person_show"))
    auth = _oauth(fake_time, saved, expires_at=fake_time.now + 30)
    with make_client(fake_time, auth=auth) as client:
        client.get(PATH)
    assert mocked.calls[0].request.url == TOKEN_URL
    assert len(saved) == 1


def test_invalid_grant_says_to_reconnect(
    oauth_client: PcoClient, mocked: responses.RequestsMock, saved: list[dict[str, Any]]
) -> None:
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    refused = {
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid",
    }
    mocked.add("POST", TOKEN_URL, json=refused, status=400)
    with pytest.raises(AuthenticationError, match=r"invalid_grant.*reconnect Planning Center"):
        oauth_client.get(PATH)
    assert saved == []


def test_a_token_without_refresh_credentials_is_just_used(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    with (
        make_client(fake_time, auth=OAuth2Auth("only-access")) as client,
        pytest.raises(AuthenticationError),
    ):
        client.get(PATH)
    assert len(mocked.calls) == 1


def test_secrets_stay_out_of_reprs() -> None:
    from flask_pco.client import BasicAuth

    assert "secret" not in repr(OAuth2Auth("tok", client_id="c", client_secret="secret"))
    assert "s3cret" not in repr(BasicAuth("app", "s3cret"))


def test_a_token_refreshed_by_another_process_is_adopted_instead_of_refreshing(
    fake_time: FakeTime, mocked: responses.RequestsMock, saved: list[dict[str, Any]]
) -> None:
    stored = {
        "access_token": "newer",
        "refresh_token": "newer-refresh",
        "expires_at": fake_time.now + 7000,
    }
    auth = OAuth2Auth(
        "old-access",
        refresh_token="old-refresh",
        expires_at=fake_time.now + 7200,
        client_id="client-id",
        client_secret="client-secret",
        on_refresh=saved.append,
        load_token=lambda: stored,
        clock=fake_time.clock,
    )
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    add(mocked, "GET", PATH, example("person_show"))
    with make_client(fake_time, auth=auth) as client:
        client.get(PATH)
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer newer"
    assert auth.refresh_token == "newer-refresh"
    assert saved == []


def test_build_client_passes_the_refresh_credentials_to_oauth() -> None:
    from flask_pco.client import build_client

    with build_client(
        base_url=BASE, access_token="tok", refresh_token="r", client_id="c", client_secret="s"
    ) as client:
        assert isinstance(client.auth, OAuth2Auth)
        assert client.auth.can_refresh


def _locked_oauth(fake_time: FakeTime, events: list[str], **options: Any) -> OAuth2Auth:
    @contextmanager
    def refresh_lock() -> Iterator[None]:
        events.append("locked")
        try:
            yield
        finally:
            events.append("unlocked")

    return OAuth2Auth(
        "old-access",
        refresh_token="old-refresh",
        expires_at=fake_time.now + 7200,
        client_id="client-id",
        client_secret="client-secret",
        refresh_lock=refresh_lock,
        clock=fake_time.clock,
        **options,
    )


def test_the_stored_token_is_read_and_refreshed_under_the_refresh_lock(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    events: list[str] = []
    auth = _locked_oauth(
        fake_time,
        events,
        load_token=lambda: events.append("read") or None,
        on_refresh=lambda token: events.append("saved"),
    )
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    mocked.add("POST", TOKEN_URL, json=example("oauth_token_response"))
    add(mocked, "GET", PATH, example("person_show"))
    with make_client(fake_time, auth=auth) as client:
        client.get(PATH)
    assert events == ["locked", "read", "saved", "unlocked"]


def test_a_refused_refresh_token_is_reported_before_the_error_is_raised(
    fake_time: FakeTime, mocked: responses.RequestsMock
) -> None:
    events: list[str] = []
    refused: list[AuthenticationError] = []
    auth = _locked_oauth(fake_time, events, on_refused=refused.append)
    add(mocked, "GET", PATH, example("error_401_unauthorized"), status=401)
    mocked.add("POST", TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    with make_client(fake_time, auth=auth) as client, pytest.raises(AuthenticationError):
        client.get(PATH)
    assert len(refused) == 1 and "invalid_grant" in str(refused[0])
    assert events == ["locked", "unlocked"]
