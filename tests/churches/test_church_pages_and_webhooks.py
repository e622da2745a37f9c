"""The admin page, the webhook route, the workers and the CLI, each for one church of many."""

from __future__ import annotations

import dataclasses
import re
import uuid
from urllib.parse import urlsplit

import requests
from flask import Flask
from rq.job import Job
from sqlalchemy import select

from flask_pco.jobs.queue import start_sync, webhook_queue
from flask_pco.jobs.workers import make_worker
from flask_pco.sandbox import SandboxServer
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization
from flask_pco.web.webhook import sign_body
from tests.churches_site import Member, churches_db
from tests.sync.webhooks.conftest import delivery_body, person_resource

from .conftest import GRACE, HOPE, HOPE_ORGANIZATION

ADMIN_URL = "/admin/pco-sync/"
WEBHOOK_URL = "/api/pco/webhook"


def pull_people(church: str) -> int:
    with use_organization(church):
        return int(start_sync("pull", "people", mode="inline", trigger="cli").id)


def subscribe(church: str, secret: str) -> None:
    """What ``flask pco --organization ID webhooks install`` stores for the church."""
    with use_organization(church):
        state = current_pco()
        Subscription = state.models.WebhookSubscription
        state.db.session.add(
            Subscription(pco_id=f"sub-{church}", name="people.v2.events.person.updated",
                         url="https://churches.example.org/api/pco/webhook", secret=secret)
        )  # fmt: skip
        state.db.session.commit()


def member(church: int, pco_id: str) -> Member:
    churches_db.session.expire_all()
    return churches_db.session.scalars(
        select(Member).where(Member.church_id == church, Member.pco_id == pco_id)
    ).one()


def test_the_admin_page_shows_only_the_current_church_s_runs(site: Flask) -> None:
    grace_run, hope_run = pull_people(GRACE), pull_people(HOPE)

    page = site.test_client().get(ADMIN_URL, headers={"X-Church": HOPE}).text

    assert f'id="pco-run-{hope_run}"' in page
    assert f'id="pco-run-{grace_run}"' not in page


def test_a_church_connects_on_its_own_admin_page(site: Flask) -> None:
    with use_organization(GRACE):
        current_pco().token_store().delete()

    grace = site.test_client().get(ADMIN_URL, headers={"X-Church": GRACE}).text
    hope = site.test_client().get(ADMIN_URL, headers={"X-Church": HOPE}).text

    assert "Connect Planning Center" in grace
    assert "org 300002" in hope


def test_a_delivery_goes_to_the_church_whose_subscription_signed_it(
    site: Flask, two_organizations: SandboxServer
) -> None:
    pull_people(GRACE)
    pull_people(HOPE)
    subscribe(GRACE, "grace-secret")
    subscribe(HOPE, "hope-secret")
    pco_id = member_pco_id(2)
    grace_before = member(1, pco_id).last_name  # both churches' sandboxes use the same ids
    name = f"Hopeful-{uuid.uuid4().hex[:6]}"
    edited = two_organizations.control_for(HOPE_ORGANIZATION).edit_person(pco_id, last_name=name)
    raw = delivery_body(
        "people.v2.events.person.updated",
        person_resource(pco_id, last_name=name, updated_at=edited["updated_at"]),
    )

    answer = site.test_client().post(
        WEBHOOK_URL,
        data=raw,
        headers={"Content-Type": "application/json",
                 "X-PCO-Webhooks-Authenticity": sign_body(raw, "hope-secret")},
    )  # fmt: skip

    assert answer.status_code == 200
    with use_organization(HOPE):
        queue = webhook_queue()
    queued = Job.fetch(queue.job_ids[0], connection=queue.connection)
    assert queued.meta == {"pco_organization": HOPE}
    make_worker(simple=True).work(burst=True)
    assert member(2, pco_id).last_name == name
    assert member(1, pco_id).last_name == grace_before


def member_pco_id(church: int) -> str:
    return str(
        churches_db.session.scalars(
            select(Member.pco_id).where(Member.church_id == church).order_by(Member.id)
        ).first()
    )


def test_a_delivery_no_church_subscribed_is_refused(site: Flask) -> None:
    subscribe(HOPE, "hope-secret")
    raw = delivery_body("people.v2.events.person.updated", person_resource("90000104"))

    answer = site.test_client().post(
        WEBHOOK_URL,
        data=raw,
        headers={"Content-Type": "application/json",
                 "X-PCO-Webhooks-Authenticity": sign_body(raw, "someone-else")},
    )  # fmt: skip

    assert answer.status_code == 401
    state = current_pco()
    assert state.db.session.scalars(select(state.models.WebhookDelivery)).all() == []


def test_a_queued_run_is_worked_for_its_church(site: Flask) -> None:
    with use_organization(HOPE):
        run = start_sync("pull", "people", mode="enqueue", trigger="cli")

    make_worker(simple=True).work(burst=True)

    churches = churches_db.session.scalars(select(Member.church_id).distinct()).all()
    assert churches == [2]
    with use_organization(HOPE):
        state = current_pco()
        assert state.db.session.get(state.models.SyncRun, run.id).status == "succeeded"


def test_the_cli_works_for_the_church_it_names(site: Flask) -> None:
    runner = site.test_cli_runner()

    result = runner.invoke(args=["pco", "--organization", GRACE, "sync", "people"])

    assert result.exit_code == 0, result.output
    churches = churches_db.session.scalars(select(Member.church_id).distinct()).all()
    assert churches == [1]


def test_the_cli_refuses_an_organisation_id_that_cannot_name_keys(site: Flask) -> None:
    result = site.test_cli_runner().invoke(args=["pco", "--organization", "a:b", "status"])

    assert result.exit_code == 1
    assert "organisation id 'a:b' is not usable" in result.output


def test_a_delivery_signed_with_the_site_secret_goes_to_the_church_of_its_organisation(
    site: Flask,
) -> None:
    site.extensions["pco"].config = dataclasses.replace(
        site.extensions["pco"].config, webhook_secrets=("site-secret",)
    )
    raw = delivery_body("people.v2.events.person.updated", person_resource("90000104"))
    raw = raw.replace(b'"id":"300001"}}}', f'"id":"{HOPE_ORGANIZATION}"}}}}}}'.encode())

    answer = site.test_client().post(
        WEBHOOK_URL,
        data=raw,
        headers={"Content-Type": "application/json",
                 "X-PCO-Webhooks-Authenticity": sign_body(raw, "site-secret")},
    )  # fmt: skip

    assert answer.status_code == 200
    state = current_pco()
    stored = state.db.session.scalars(select(state.models.WebhookDelivery)).all()
    assert [(row.organization_id, row.organization) for row in stored] == [
        (HOPE_ORGANIZATION, "church-2")
    ]


def test_each_church_connects_its_own_organisation_on_its_own_page(
    site: Flask, two_organizations: SandboxServer
) -> None:
    with use_organization(HOPE):
        current_pco().token_store().delete()
    client = site.test_client()
    hope = {"X-Church": HOPE}
    page = client.get(ADMIN_URL, headers=hope).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    two_organizations.control.set_oauth(auto_approve=True, organization=HOPE_ORGANIZATION)

    to_pco = client.post(f"{ADMIN_URL}oauth/connect", data={"csrf_token": token.group(1)},
                         headers=hope)  # fmt: skip
    back = requests.get(to_pco.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    client.get(f"{callback.path}?{callback.query}", headers=hope)

    with use_organization(HOPE):
        assert current_pco().oauth_connection().organization_id == HOPE_ORGANIZATION
    with use_organization(GRACE):
        assert current_pco().oauth_connection().organization_id == "300001"
