"""Several churches in one sandbox: each its own data, rate budget and credentials, and OAuth
grants for the organisation chosen on the consent page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from flask_pco.sandbox import SandboxServer, create_sandbox_app
from flask_pco.sandbox.specs import ORGANIZATION_ID

SECOND = "300002"
CLIENT = {"client_id": "sandbox-oauth-client", "client_secret": "sandbox-oauth-secret"}
REDIRECT = "https://church.example.org/callback"


@pytest.fixture(scope="module")
def two_churches() -> Iterator[SandboxServer]:
    app = create_sandbox_app(people=5, seed=3, organizations=[(SECOND, "Hope Chapel")])
    with SandboxServer(app) as server:
        yield server


def as_pat(server: SandboxServer, app_id: str, path: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", auth=(app_id, "sandbox-secret"), timeout=10)


def test_each_pat_reaches_its_own_organisation(two_churches: SandboxServer) -> None:
    first = as_pat(two_churches, "sandbox", "/people/v2").json()["data"]
    second = as_pat(two_churches, f"sandbox-{SECOND}", "/people/v2").json()["data"]
    assert (first["id"], second["id"]) == (ORGANIZATION_ID, SECOND)
    assert second["attributes"]["name"] == "Hope Chapel"


def test_an_edit_in_one_church_stays_in_it(two_churches: SandboxServer) -> None:
    person = two_churches.control_for(SECOND).add_person(first_name="Only", last_name="Hope")
    there = as_pat(two_churches, f"sandbox-{SECOND}", f"/people/v2/people/{person}")
    here = as_pat(two_churches, "sandbox", f"/people/v2/people/{person}")
    assert there.status_code == 200 and here.status_code == 404


def test_each_church_has_its_own_rate_budget(two_churches: SandboxServer) -> None:
    two_churches.control.set_rate_limit(2, 20)
    try:
        statuses = [as_pat(two_churches, "sandbox", "/people/v2").status_code for _ in range(3)]
        other = as_pat(two_churches, f"sandbox-{SECOND}", "/people/v2")
    finally:
        two_churches.control.set_rate_limit(100, 20)
    assert statuses == [200, 200, 429]
    assert other.status_code == 200


def test_a_grant_reaches_the_organisation_chosen_on_the_consent_page(
    two_churches: SandboxServer,
) -> None:
    two_churches.control.set_oauth(auto_approve=False)
    form = {"client_id": CLIENT["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "people", "state": "s", "organization": SECOND}  # fmt: skip
    back = requests.post(
        f"{two_churches.url}/oauth/authorize", data=form, allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    token = requests.post(
        f"{two_churches.url}/oauth/token",
        data={**CLIENT, "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    answer = requests.get(f"{two_churches.url}/people/v2", headers=headers, timeout=10)
    assert answer.json()["data"]["id"] == SECOND


def test_the_consent_page_lists_every_organisation(two_churches: SandboxServer) -> None:
    two_churches.control.set_oauth(auto_approve=False)
    query = urlencode({"client_id": CLIENT["client_id"], "redirect_uri": REDIRECT,
                       "response_type": "code", "scope": "people"})  # fmt: skip
    page = requests.get(f"{two_churches.url}/oauth/authorize?{query}", timeout=10).text
    assert "Grace Church Sandbox" in page and "Hope Chapel" in page


def test_a_control_call_for_an_unknown_organisation_is_a_404(two_churches: SandboxServer) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        two_churches.control_for("999999").state(records=False)
    assert raised.value.response.status_code == 404
