"""The sandbox's OAuth server follows PCO's (REFERENCE §2.2): consent, code exchange, two-hour
tokens, rotating refresh tokens, revocation, and the 401 hints for dead access tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from flask_pco.sandbox import SandboxControl, SandboxServer

CLIENT = {"client_id": "sandbox-oauth-client", "client_secret": "sandbox-oauth-secret"}
REDIRECT = "https://church.example.org/callback"


@pytest.fixture
def oauth(server: SandboxServer, control: SandboxControl) -> SandboxServer:
    control.set_oauth(auto_approve=True)
    return server


def authorize_query(**extra: str) -> str:
    return urlencode({"client_id": CLIENT["client_id"], "redirect_uri": REDIRECT,
                      "response_type": "code", "scope": "people groups", "state": "xyz", **extra})  # fmt: skip


def code_for(server: SandboxServer) -> str:
    back = requests.get(f"{server.url}/oauth/authorize?{authorize_query()}", allow_redirects=False)
    return parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]


def token_request(server: SandboxServer, **form: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", data={**CLIENT, **form}, timeout=10)


def new_token(server: SandboxServer) -> dict[str, Any]:
    answer = token_request(
        server, grant_type="authorization_code", code=code_for(server), redirect_uri=REDIRECT
    )
    assert answer.status_code == 200
    return dict(answer.json())


def bearer_get(server: SandboxServer, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{server.url}/people/v2", headers=headers, timeout=10)


def test_without_auto_approval_pco_shows_a_consent_page(
    server: SandboxServer, control: SandboxControl
) -> None:
    control.set_oauth(auto_approve=False)
    page = requests.get(f"{server.url}/oauth/authorize?{authorize_query()}", timeout=10)
    assert page.status_code == 200 and "Allow" in page.text and "people groups" in page.text


def test_allowing_redirects_back_with_a_code_and_the_state(
    server: SandboxServer, control: SandboxControl
) -> None:
    control.set_oauth(auto_approve=False)
    form = parse_qs(authorize_query())
    answer = requests.post(
        f"{server.url}/oauth/authorize",
        data={k: v[0] for k, v in form.items()},
        allow_redirects=False,
        timeout=10,
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.headers["Location"].startswith(REDIRECT)
    assert query["state"] == ["xyz"] and query["code"][0]


def test_the_token_answer_has_pcos_shape_and_two_hour_expiry(oauth: SandboxServer) -> None:
    token = new_token(oauth)
    assert set(token) == {
        "access_token", "token_type", "expires_in", "refresh_token", "scope", "created_at"
    }  # fmt: skip
    assert token["token_type"] == "bearer" and token["expires_in"] == 7200
    assert token["scope"] == "people groups"
    assert bearer_get(oauth, token["access_token"]).status_code == 200


def test_a_code_works_once(oauth: SandboxServer) -> None:
    code = code_for(oauth)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_request(oauth, **form).status_code == 200
    again = token_request(oauth, **form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_code_needs_the_redirect_uri_it_was_issued_for(oauth: SandboxServer) -> None:
    form = {"grant_type": "authorization_code", "code": code_for(oauth)}
    answer = token_request(oauth, **form, redirect_uri="https://elsewhere.example/cb")
    assert answer.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(oauth: SandboxServer) -> None:
    form = {"grant_type": "authorization_code", "code": code_for(oauth), "redirect_uri": REDIRECT}
    answer = requests.post(
        f"{oauth.url}/oauth/token", data={**form, **CLIENT, "client_secret": "no"}, timeout=10
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_refresh_rotates_the_refresh_token(oauth: SandboxServer) -> None:
    token = new_token(oauth)
    first = token_request(oauth, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert first.status_code == 200
    assert first.json()["refresh_token"] != token["refresh_token"]
    spent = token_request(oauth, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"


def test_an_expired_access_token_answers_baboon(
    oauth: SandboxServer, control: SandboxControl
) -> None:
    token = new_token(oauth)
    control.expire_access_tokens()
    answer = bearer_get(oauth, token["access_token"])
    assert answer.status_code == 401 and "BABOON" in answer.text


def test_revoking_ends_the_whole_grant(oauth: SandboxServer) -> None:
    token = new_token(oauth)
    revoked = requests.post(
        f"{oauth.url}/oauth/revoke", data={**CLIENT, "token": token["refresh_token"]}, timeout=10
    )
    assert revoked.status_code == 200
    assert "CAPUCHIN" in bearer_get(oauth, token["access_token"]).text
    refresh = token_request(oauth, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
