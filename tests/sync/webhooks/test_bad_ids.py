"""A webhook payload whose ids are not PCO ids: the delivery is ignored with a note naming the id,
nothing local changes and no request reaches PCO (the sandbox records every request)."""

from __future__ import annotations

import pytest

from example_app.models import db
from tests.sync.webhooks.conftest import deliveries, delivery_body, person_resource

from .test_apply import created_locally, household_event

BAD_IDS = ["../../x", "1/../2", "12?include=x", "12#x", "0", "007", "-1", "١٢"]


def _assert_ignored_without_a_request(church, message: str) -> None:
    [*_, row] = deliveries(db)
    assert (row.status, row.error_message) == ("ignored", message)
    assert church.pco_requests() == []


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_person_event_for_an_id_that_is_not_a_pco_id_asks_pco_nothing(church, bad_id):
    church.sandbox.control.clear_requests()

    church.post(delivery_body("people.v2.events.person.updated", person_resource(bad_id)))

    message = f"{bad_id!r} is not a PCO person id; nothing was asked of PCO"
    _assert_ignored_without_a_request(church, message)


def test_a_contact_event_whose_owner_is_not_a_pco_id_asks_pco_nothing(church):
    email = {
        "type": "Email",
        "id": "5001",
        "attributes": {"address": "dana@example.org", "primary": True},
        "relationships": {"person": {"data": {"type": "Person", "id": "../../people/v2"}}},
    }
    church.sandbox.control.clear_requests()

    church.post(delivery_body("people.v2.events.email.updated", email))

    message = "'../../people/v2' is not a PCO person id; nothing was asked of PCO"
    _assert_ignored_without_a_request(church, message)


def test_a_household_event_for_an_id_that_is_not_a_pco_id_asks_pco_nothing(church):
    church.sandbox.control.clear_requests()

    church.post(household_event("updated", "7/household_memberships"))

    message = "'7/household_memberships' is not a PCO household id; nothing was asked of PCO"
    _assert_ignored_without_a_request(church, message)


def test_a_merger_naming_a_kept_person_that_is_not_a_pco_id_relinks_nobody(church):
    remove = church.add_pco_person()
    row = created_locally(church, remove)
    merger = {
        "type": "PersonMerger",
        "id": "77",
        "attributes": {"person_to_remove_id": int(remove)},
        "relationships": {"person_to_keep": {"data": {"type": "Person", "id": "../x"}}},
    }
    church.sandbox.control.clear_requests()

    church.post(delivery_body("people.v2.events.person_merger.created", merger))

    message = "'../x' is not a PCO person id; nothing was asked of PCO"
    _assert_ignored_without_a_request(church, message)
    db.session.refresh(row)
    assert row.pco_id == remove
