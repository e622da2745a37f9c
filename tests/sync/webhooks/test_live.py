"""End to end: the sandbox sends real signed deliveries to the example app served on a real port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from example_app import pco
from example_app.models import Person, db
from flask_pco.web.webhook import sign_body
from tests.helpers import sandbox_settings
from tests.sync.webhooks.conftest import LiveApp, deliveries, delivery_body, person_resource


class Site:
    """The live site subscribed to every People event of the sandbox."""

    def __init__(self, database_url: str, sandbox: Any) -> None:
        self.sandbox, self.control = sandbox, sandbox.control
        self.live = LiveApp(
            database_url,
            configure=lambda url: {"PCO_WEBHOOK_SECRET": self.control.subscribe(url)},
            **sandbox_settings(sandbox.url),
        )

    def deliver(self) -> None:
        """Wait until the sandbox has delivered (and the site applied) every queued event."""
        self.control.flush_webhooks()

    def person(self, pco_id: str) -> Any:
        db.session.expire_all()
        return db.session.scalar(db.select(Person).where(Person.pco_id == pco_id))

    def people_count(self) -> int:
        return int(db.session.scalar(db.select(db.func.count(Person.id))))

    def sent_statuses(self) -> set[int]:
        return {d["status"] for d in self.control.deliveries()}


@pytest.fixture
def site(database_url: str, sandbox: Any) -> Iterator[Site]:
    site = Site(database_url, sandbox)
    with site.live.app.app_context():
        yield site
    site.live.stop()


def test_person_created_in_pco_appears_on_the_site(site):
    pco_id = site.control.add_person(
        first_name="Ruth", last_name="Moab", emails=["ruth@example.org"]
    )

    site.deliver()

    row = site.person(pco_id)
    assert (row.first_name, row.last_name, row.is_active) == ("Ruth", "Moab", True)
    assert [e.email for e in row.emails] == ["ruth@example.org"]
    assert site.sent_statuses() == {200}


def test_person_edited_in_pco_updates_the_site_and_keeps_local_data(site):
    pco_id = site.control.add_person(first_name="Ruth", last_name="Moab")
    site.deliver()
    site.person(pco_id).allergies = "gluten"
    db.session.commit()

    site.control.edit_person(pco_id, last_name="Boaz")
    site.deliver()

    row = site.person(pco_id)
    assert (row.last_name, row.allergies) == ("Boaz", "gluten")


def test_person_deleted_in_pco_is_deactivated_not_deleted(site):
    pco_id = site.control.add_person(first_name="Ruth", last_name="Moab")
    site.deliver()
    site.person(pco_id).photo_url = "https://church.example/ruth.jpg"
    db.session.commit()

    site.control.delete_person(pco_id)
    site.deliver()

    row = site.person(pco_id)
    assert (row.is_active, row.photo_url) == (False, "https://church.example/ruth.jpg")
    assert site.people_count() == 1


def test_email_edited_in_pco_is_refetched_and_applied(site):
    pco_id = site.control.add_person(
        first_name="Ruth", last_name="Moab", emails=["ruth@example.org"]
    )
    site.deliver()
    [email_id] = site.sandbox.sandbox.store.lookup("Email", "person_id", pco_id)

    site.control.edit_email(email_id, address="ruth@boaz.example")
    site.deliver()

    assert [e.email for e in site.person(pco_id).emails] == ["ruth@boaz.example"]


def test_duplicated_and_shuffled_deliveries_end_in_pcos_state(site):
    site.control.set_webhook_chaos(duplicate_rate=1.0, shuffle=True)
    ids = [site.control.add_person(first_name=f"P{n}", last_name="Chaos") for n in range(3)]
    site.deliver()
    for pco_id in ids:
        site.control.edit_person(pco_id, first_name=f"{pco_id}-edited")
    site.control.delete_person(ids[0])

    site.deliver()

    assert site.people_count() == 3
    for pco_id in ids[1:]:
        assert site.person(pco_id).first_name == f"{pco_id}-edited"
    assert [site.person(i).is_active for i in ids] == [False, True, True]
    sent = site.control.deliveries()
    assert len(sent) == 2 * len({d["event"] for d in sent})  # every event sent twice
    assert len(deliveries(db)) == len({d["event"] for d in sent})  # ...stored once


def test_merge_in_pco_of_two_local_people_moves_the_local_data_to_the_kept_one(site):
    site.control.set_webhook_chaos(duplicate_rate=1.0, shuffle=True)
    keep = site.control.add_person(first_name="Naomi", last_name="Moab")
    remove = site.control.add_person(first_name="Naomi", last_name="Mara")
    site.deliver()
    removed_row = site.person(remove)
    removed_row.allergies = "peanuts"
    db.session.commit()

    site.control.merge_people(keep, remove)
    site.deliver()

    kept, removed = site.person(keep), site.person(remove)
    assert (kept.is_active, kept.allergies) == (True, "peanuts")
    assert (removed.is_active, removed.pco_merged_into) == (False, kept.id)
    assert site.people_count() == 2
    assert db.session.scalars(db.select(pco.models.SyncIssue)).all() == []


def test_forged_delivery_to_the_live_site_is_refused(site):
    raw = delivery_body("people.v2.events.person.created", person_resource("1"))

    response = requests.post(
        site.live.webhook_url,
        data=raw,
        headers={
            "X-PCO-Webhooks-Authenticity": sign_body(raw, "guessed"),
            "Content-Type": "application/json",
        },
        timeout=10,
    )

    assert response.status_code == 401
    assert deliveries(db) == []


def test_oversize_body_to_the_live_site_is_refused_with_413(site):
    raw = b"{" + b" " * (site.live.app.config["PCO_WEBHOOK_MAX_BYTES"] + 1) + b"}"

    response = requests.post(site.live.webhook_url, data=raw, timeout=10)

    assert response.status_code == 413
    assert deliveries(db) == []


@pytest.mark.parametrize(
    ("body", "signed", "status"),
    [(b'{"data": [', True, 400), (b'{"data": []}', True, 400), (b'{"data": []}', False, 401)],
    ids=["malformed-json", "wrong-shape", "unsigned"],
)
def test_bad_requests_to_the_live_site_change_nothing(site, body, signed, status):
    secret = site.live.app.config["PCO_WEBHOOK_SECRET"]
    headers = {"X-PCO-Webhooks-Authenticity": sign_body(body, secret)} if signed else {}

    response = requests.post(site.live.webhook_url, data=body, headers=headers, timeout=10)

    assert response.status_code == status
    assert deliveries(db) == []
