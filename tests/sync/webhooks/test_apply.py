"""Applying deliveries posted through the Flask test client; PCO is the sandbox (re-fetches).

Each test says what changed locally and what did not: local-owned columns (allergies,
photo_url) are never touched and no row is ever deleted.
"""

from __future__ import annotations

import json

from example_app import pco
from example_app.models import Person, PersonEmail, db
from tests.sync.webhooks.conftest import deliveries, delivery_body, destroyed_resource

LOCAL_ONLY = {"allergies": "peanuts", "photo_url": "https://church.example/dana.jpg"}


def created_locally(church, pco_id: str) -> Person:
    """Apply PCO's created event, then give the row local-only data."""
    church.post(church.person_event("created", pco_id))
    row = church.local(pco_id)
    for column, value in LOCAL_ONLY.items():
        setattr(row, column, value)
    db.session.commit()
    return row


def assert_local_data_kept(row: Person) -> None:
    assert {c: getattr(row, c) for c in LOCAL_ONLY} == LOCAL_ONLY


def test_created_event_creates_the_person_with_contacts_from_pco(church):
    pco_id = church.add_pco_person(emails=["dana@example.org"], phone_numbers=["555-010-7788"])

    church.post(church.person_event("created", pco_id))

    row = church.local(pco_id)
    assert (row.first_name, row.last_name, row.is_active) == ("Dana", "Newcomer", True)
    assert [e.email for e in row.emails] == ["dana@example.org"]
    assert [p.phone for p in row.phones] == ["+15550107788"]
    assert [d.status for d in deliveries(db)] == ["applied"]


def test_created_event_links_an_existing_local_person_instead_of_duplicating(church):
    db.session.add(Person(first_name="Dana", last_name="Newcomer", allergies="peanuts"))
    db.session.add(PersonEmail(person_id=1, email="dana@example.org"))
    db.session.commit()
    pco_id = church.add_pco_person(emails=["dana@example.org"])

    church.post(church.person_event("created", pco_id))

    [row] = db.session.scalars(db.select(Person)).all()
    assert (row.pco_id, row.allergies) == (pco_id, "peanuts")


def test_updated_event_updates_demographics_and_keeps_local_data(church):
    pco_id = church.add_pco_person()
    created_locally(church, pco_id)
    church.sandbox.control.edit_person(pco_id, first_name="Danielle", child=True)

    church.post(church.person_event("updated", pco_id))

    row = church.local(pco_id)
    assert (row.first_name, row.is_child) == ("Danielle", True)
    assert_local_data_kept(row)


def test_older_update_arriving_after_a_newer_one_changes_nothing(church):
    pco_id = church.add_pco_person()
    row = created_locally(church, pco_id)
    row.pco_updated_at = row.pco_updated_at.replace(year=2030)  # a newer version is applied
    db.session.commit()
    church.sandbox.control.clear_requests()

    church.post(church.person_event("updated", pco_id, first_name="Old"))

    row = church.local(pco_id)
    assert row.first_name == "Dana"
    assert church.pco_requests() == []  # stale: not even re-fetched
    assert deliveries(db)[-1].status == "ignored"
    assert "stale" in deliveries(db)[-1].error_message


def test_out_of_order_pair_ends_with_the_newer_version(church):
    pco_id = church.add_pco_person()
    created_locally(church, pco_id)
    older = church.person_event("updated", pco_id, updated_at="2025-01-01T00:00:00Z")
    church.sandbox.control.edit_person(pco_id, last_name="Newer")
    newer = church.person_event("updated", pco_id, updated_at="2099-01-01T00:00:00Z")

    church.post(newer)
    row = church.local(pco_id)
    row.pco_updated_at = row.pco_updated_at.replace(year=2099)
    db.session.commit()
    church.post(older)

    row = church.local(pco_id)
    assert row.last_name == "Newer"
    assert [d.status for d in deliveries(db)] == ["applied", "applied", "ignored"]


def test_destroyed_event_deactivates_and_keeps_the_row_and_its_data(church):
    pco_id = church.add_pco_person(emails=["dana@example.org"])
    created_locally(church, pco_id)
    church.sandbox.control.delete_person(pco_id)

    church.post(church.person_event("destroyed", pco_id))

    row = church.local(pco_id)
    assert row.is_active is False
    assert_local_data_kept(row)
    assert [e.email for e in row.emails] == ["dana@example.org"]
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1


def test_update_arriving_after_destroyed_does_not_reactivate(church):
    pco_id = church.add_pco_person()
    created_locally(church, pco_id)
    late_update = church.person_event("updated", pco_id, first_name="Late")
    church.sandbox.control.delete_person(pco_id)
    church.post(church.person_event("destroyed", pco_id))

    church.post(late_update)

    row = church.local(pco_id)
    assert (row.is_active, row.first_name) == (False, "Dana")
    assert deliveries(db)[-1].status == "ignored"


def test_echo_of_our_own_write_changes_nothing(church):
    pco_id = church.add_pco_person()
    row = created_locally(church, pco_id)
    before = (row.first_name, row.pco_updated_at, dict(row.pco_snapshot))
    church.sandbox.control.clear_requests()

    church.post(church.person_event("updated", pco_id))

    row = church.local(pco_id)
    assert (row.first_name, row.pco_updated_at, dict(row.pco_snapshot)) == before
    assert_local_data_kept(row)
    assert church.pco_requests() == []
    assert deliveries(db)[-1].status == "ignored"


def test_duplicate_delivery_is_applied_once(church):
    pco_id = church.add_pco_person()
    raw = church.person_event("created", pco_id)
    church.sandbox.control.clear_requests()

    church.post(raw)
    church.post(raw)

    assert len(deliveries(db)) == 1
    fetches = [r for r in church.pco_requests() if r.startswith(f"GET /people/v2/people/{pco_id}")]
    assert len(fetches) == 1
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1


def test_email_updated_refetches_the_owner_and_updates_the_email(church):
    pco_id = church.add_pco_person(emails=["dana@example.org"])
    row = created_locally(church, pco_id)
    [email_id] = church.pco_ids("Email", pco_id)
    church.sandbox.control.edit_email(email_id, address="dana.new@example.org")
    email = {
        "type": "Email",
        "id": email_id,
        "attributes": {"address": "dana.new@example.org", "primary": True},
        "relationships": {"person": {"data": {"type": "Person", "id": pco_id}}},
    }

    church.post(delivery_body("people.v2.events.email.updated", email, attempt=2))

    row = church.local(pco_id)
    assert [e.email for e in row.emails] == ["dana.new@example.org"]
    assert row.first_name == "Dana"
    assert_local_data_kept(row)


def test_email_destroyed_without_owner_finds_it_through_the_local_email(church):
    pco_id = church.add_pco_person(emails=["dana@example.org", "dana@work.example"])
    created_locally(church, pco_id)
    email_id = church.pco_ids("Email", pco_id)[1]
    church.sandbox.control.delete("emails", email_id)

    church.post(
        delivery_body("people.v2.events.email.destroyed", destroyed_resource("Email", email_id))
    )

    assert [e.email for e in church.local(pco_id).emails] == ["dana@example.org"]


def test_address_destroyed_without_owner_finds_it_through_the_local_address(church):
    pco_id = church.add_pco_person(
        addresses=[{"street_line_1": "1 Home Rd"}, {"street_line_1": "2 Work Ave"}]
    )
    created_locally(church, pco_id)
    address_id = church.pco_ids("Address", pco_id)[1]
    church.sandbox.control.delete("addresses", address_id)

    church.post(
        delivery_body(
            "people.v2.events.address.destroyed", destroyed_resource("Address", address_id)
        )
    )

    assert [a.street_line_1 for a in church.local(pco_id).addresses] == ["1 Home Rd"]


def test_merger_relinks_the_local_row_of_the_removed_profile(church):
    keep = church.add_pco_person(emails=["dana@example.org"])
    remove = church.add_pco_person(first="Dana", last="Newcomer")
    row = created_locally(church, remove)
    merger_id = church.sandbox.control.merge_people(keep, remove)

    church.post(merger_event(church, merger_id, keep, remove))

    assert church.local(remove) is None
    row = church.local(keep)
    assert row.id == 1 and row.is_active is True
    assert [e.email for e in row.emails] == ["dana@example.org"]
    assert_local_data_kept(row)


def merger_event(church, merger_id: str, keep: str, remove: str) -> bytes:
    resource = {
        "type": "PersonMerger",
        "id": merger_id,
        "attributes": {"person_to_keep_id": int(keep), "person_to_remove_id": int(remove)},
        "relationships": {
            "person_to_keep": {"data": {"type": "Person", "id": keep}},
            "person_to_remove": {"data": {"type": "Person", "id": remove}},
        },
    }
    return delivery_body("people.v2.events.person_merger.created", resource)


def test_merger_example_for_people_we_do_not_have_is_ignored(church):
    from tests.sync.webhooks.conftest import EXAMPLES

    raw = json.dumps(json.loads((EXAMPLES / "webhook_person_merger_created.body.json").read_text()))

    church.post(raw.encode())

    [row] = deliveries(db)
    assert (row.resource_type, row.status) == ("PersonMerger", "ignored")


def household_event(action: str, household_id: str) -> bytes:
    resource = {"type": "Household", "id": household_id, "attributes": {"name": "ignored"}}
    return delivery_body(f"people.v2.events.household.{action}", resource)


def test_household_created_refetches_it_and_links_the_local_members(church):
    ruth, boaz = church.add_pco_person("Ruth", "Moab"), church.add_pco_person("Boaz", "Moab")
    created_locally(church, ruth), created_locally(church, boaz)
    household_id = church.sandbox.control.add_household([ruth, boaz], name="Moab Household")

    church.post(household_event("created", household_id))

    from example_app.models import Family

    [family] = db.session.scalars(db.select(Family)).all()
    assert (family.name, family.pco_id) == ("Moab Household", household_id)
    assert {m.person.pco_id for m in family.members} == {ruth, boaz}
    assert_local_data_kept(church.local(ruth))


def _destroyed_household(church) -> str:
    """A household pulled in by its webhook, then deleted in PCO and its destroyed event sent."""
    ruth = church.add_pco_person("Ruth", "Moab")
    created_locally(church, ruth)
    household_id = church.sandbox.control.add_household([ruth], name="Moab Household")
    church.post(household_event("created", household_id))
    church.sandbox.control.delete("households", household_id)
    church.post(
        delivery_body(
            "people.v2.events.household.destroyed", destroyed_resource("Household", household_id)
        )
    )
    return household_id


def test_household_destroyed_keeps_the_local_family_and_its_members(church):
    _destroyed_household(church)

    from example_app.models import Family

    [family] = db.session.scalars(db.select(Family)).all()
    assert family.name == "Moab Household"
    assert [m.person.first_name for m in family.members] == ["Ruth"]


def test_household_destroyed_unlinks_the_family_and_says_why(church):
    household_id = _destroyed_household(church)

    from example_app.models import Family, FamilyMember

    assert db.session.scalar(db.select(Family.pco_id)) is None
    assert db.session.scalars(db.select(FamilyMember.pco_id)).all() == [None]
    assert deliveries(db)[-1].status == "applied"
    issue = db.session.scalar(db.select(pco.models.SyncIssue))
    assert (issue.kind, issue.pco_id) == ("unlinked", household_id)


def test_household_destroyed_twice_is_harmless(church):
    household_id = _destroyed_household(church)
    church.post(
        delivery_body(
            "people.v2.events.household.destroyed", destroyed_resource("Household", household_id)
        )
    )
    assert deliveries(db)[-1].status == "ignored"
    assert db.session.query(pco.models.SyncIssue).count() == 1


def test_redelivery_of_a_failed_event_applies_it(church):
    pco_id = church.add_pco_person()
    raw = church.person_event("created", pco_id)
    church.sandbox.sandbox.settings.secret = "revoked"
    church.post(raw)
    assert [d.status for d in deliveries(db)] == ["failed"]
    church.sandbox.sandbox.settings.secret = "sandbox-secret"

    church.post(raw.replace(b'"attempt":1', b'"attempt":2'))

    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempt, delivery.error_message) == ("applied", 2, None)
    assert church.local(pco_id).first_name == "Dana"


def test_destroyed_example_from_pco_deactivates_the_linked_person(church):
    from tests.sync.webhooks.conftest import EXAMPLES

    db.session.add(Person(first_name="Sam", last_name="Gone", pco_id="90000103", allergies="nuts"))
    db.session.commit()
    body = json.loads((EXAMPLES / "webhook_person_destroyed.body.json").read_text())

    church.post(json.dumps(body, separators=(",", ":")).encode())

    row = church.local("90000103")
    assert (row.is_active, row.allergies) == (False, "nuts")
    assert deliveries(db)[0].status == "applied"
