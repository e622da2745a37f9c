"""A webhook delivery journals its changes under its own delivery id."""

from __future__ import annotations

from sqlalchemy import select

from example_app import pco
from example_app.models import db
from tests.sync.webhooks.conftest import deliveries


def entries(**where):
    Entry = pco.models.JournalEntry
    db.session.expire_all()
    return list(db.session.scalars(select(Entry).filter_by(**where).order_by(Entry.id)))


def test_a_created_event_journals_the_create_under_its_delivery(church):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    [delivery] = deliveries(db)
    [created] = entries(record_type="person")
    assert (created.delivery_id, created.run_id, created.action) == (delivery.id, None, "create")
    assert (created.local_id, created.pco_id) == (church.local(pco_id).id, pco_id)


def test_an_updated_event_journals_the_field_it_changed(church):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.sandbox.control.edit_person(pco_id, first_name="Danielle")
    church.post(church.person_event("updated", pco_id))
    update = deliveries(db)[-1]
    [entry] = entries(delivery_id=update.id)
    assert (entry.field, entry.old_value, entry.new_value) == ("first_name", "Dana", "Danielle")


def test_a_repeated_event_journals_nothing_more(church):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.post(church.person_event("updated", pco_id))
    assert entries(delivery_id=deliveries(db)[-1].id) == []


def test_a_destroyed_event_journals_the_deactivation(church):
    pco_id = church.add_pco_person()
    church.post(church.person_event("created", pco_id))
    church.sandbox.control.delete_person(pco_id)
    church.post(church.person_event("destroyed", pco_id))
    [entry] = entries(delivery_id=deliveries(db)[-1].id)
    assert (entry.action, entry.field, entry.old_value, entry.new_value) == (
        "deactivate",
        "is_active",
        True,
        False,
    )


def test_the_housekeeping_prunes_the_journal(church):
    from datetime import timedelta

    from flask_pco import current_pco
    from flask_pco.jobs.webhooks import webhook_housekeeping
    from flask_pco.models import utcnow

    old = utcnow() - timedelta(days=current_pco().config.journal_days + 1)
    db.session.add(
        pco.models.JournalEntry(side="local", record_type="person", action="update", created_at=old)
    )
    db.session.commit()
    assert webhook_housekeeping(current_pco()).journal_pruned == 1
    assert entries() == []
