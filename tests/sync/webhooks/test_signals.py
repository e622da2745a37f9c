"""A webhook delivery sends the host's signals under its own delivery id, after its commit."""

from __future__ import annotations

from flask_pco import person_deactivated, person_pulled
from tests.sync.webhooks.conftest import deliveries


def test_a_created_event_sends_person_pulled_with_the_delivery(church, hear):
    from example_app.models import db

    pco_id = church.add_pco_person()
    pulled = hear(person_pulled)
    church.post(church.person_event("created", pco_id))
    [delivery] = deliveries(db)
    [call] = pulled.calls
    assert (call["delivery_id"], call["run_id"], call["created"]) == (delivery.id, None, True)
    assert (call["local_id"], call["pco_id"]) == (church.local(pco_id).id, pco_id)
    assert call["changes"]["first_name"] == (None, "Dana")
    assert call["committed"] is True


def test_an_updated_event_sends_the_field_it_changed(church, hear):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.sandbox.control.edit_person(pco_id, first_name="Danielle")
    pulled = hear(person_pulled)
    church.post(church.person_event("updated", pco_id))
    [call] = pulled.calls
    assert (call["changes"], call["created"]) == ({"first_name": ("Dana", "Danielle")}, False)


def test_a_repeated_event_sends_nothing_more(church, hear):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    pulled = hear(person_pulled)
    church.post(church.person_event("updated", pco_id))
    assert pulled.calls == []


def test_a_destroyed_event_sends_person_deactivated(church, hear):
    from example_app.models import db

    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.sandbox.control.delete_person(pco_id)
    deactivated = hear(person_deactivated)
    church.post(church.person_event("destroyed", pco_id))
    [call] = deactivated.calls
    assert (call["delivery_id"], call["local_id"], call["changes"]) == (
        deliveries(db)[-1].id,
        church.local(pco_id).id,
        {"is_active": (True, False)},
    )
