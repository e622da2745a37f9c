"""Each church's count of PCO's answers (the rate limiter's ``answers()``, kept in Redis for
every process, read by the metrics) is the requests PCO logged for its organisation: status by
status, paging, token refreshes and the organisation lookup of a connect included."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import requests
from flask import Flask

from flask_pco.jobs.queue import start_sync
from flask_pco.jobs.workers import make_worker
from flask_pco.sandbox import SandboxServer
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization

from .conftest import GRACE, HOPE, HOPE_ORGANIZATION

ADMIN_URL = "/admin/pco-sync/"


def logged(sandbox: SandboxServer, organization: str) -> Counter[str]:
    """The requests PCO (the sandbox) logged for the organisation, by answer status."""
    return Counter(str(entry["status"]) for entry in sandbox.control_for(organization).requests())


def counted(church: str) -> Counter[str]:
    """The church's answers as its shared limiter counted them."""
    with use_organization(church):
        return Counter(current_pco().client().limiter.answers())


def pull_on_a_worker(*churches: str, incremental: bool = False) -> None:
    for church in churches:
        with use_organization(church):
            start_sync("pull", "full", incremental=incremental, mode="enqueue", trigger="cli")
    make_worker(simple=True).work(burst=True)


def connect_on_the_page(
    site: Flask, sandbox: SandboxServer, church: str, organization: str
) -> None:
    """An admin of the church presses "Connect Planning Center"; PCO approves."""
    with use_organization(church):
        current_pco().token_store().delete()
    client, headers = site.test_client(), {"X-Church": church}
    page = client.get(ADMIN_URL, headers=headers).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    sandbox.control.set_oauth(auto_approve=True, organization=organization)
    to_pco = client.post(f"{ADMIN_URL}oauth/connect", data={"csrf_token": token.group(1)},
                         headers=headers)  # fmt: skip
    back = requests.get(to_pco.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    client.get(f"{callback.path}?{callback.query}", headers=headers)


def test_a_paged_pull_counts_every_request_its_organisation_logged(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    pull_on_a_worker(GRACE, HOPE)

    assert logged(own_sandbox, ORGANIZATION_ID)["200"] == 3  # 60 people in pages of 25
    assert counted(GRACE) == logged(own_sandbox, ORGANIZATION_ID)
    assert counted(HOPE) == logged(own_sandbox, HOPE_ORGANIZATION)


def test_an_incremental_pull_s_versions_listing_is_counted(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    pull_on_a_worker(GRACE)
    pull_on_a_worker(GRACE, incremental=True)

    assert counted(GRACE) == logged(own_sandbox, ORGANIZATION_ID)


def test_the_answer_that_made_a_token_refresh_is_counted(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    own_sandbox.control.expire_access_tokens()  # the first request answers 401, then a refresh

    pull_on_a_worker(GRACE)

    assert logged(own_sandbox, ORGANIZATION_ID)["401"] == 1
    assert counted(GRACE) == logged(own_sandbox, ORGANIZATION_ID)


def test_the_organisation_lookup_of_a_connect_is_counted_for_its_church(
    own_site: Flask, own_sandbox: SandboxServer
) -> None:
    connect_on_the_page(own_site, own_sandbox, HOPE, HOPE_ORGANIZATION)
    pull_on_a_worker(HOPE)

    with use_organization(HOPE):
        assert current_pco().oauth_connection().organization_id == HOPE_ORGANIZATION
    assert counted(HOPE) == logged(own_sandbox, HOPE_ORGANIZATION)
    assert counted(GRACE) == Counter()
