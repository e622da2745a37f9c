from datetime import date

from sqlalchemy import select

from example_app.models import Person, PersonEmail, PersonPhone
from flask_pco.extension import current_pco

from .conftest import add_person, records, run_push, writes


def _pco_people(sandbox):
    return records(sandbox, "Person")


def test_push_creates_person_with_integer_remote_id_and_stores_pco_id(db, sandbox):
    person = add_person(db, gender="F")
    run_push("people")
    [created] = _pco_people(sandbox)
    assert created["remote_id"] == person.id and isinstance(created["remote_id"], int)
    assert (created["first_name"], created["gender"], created["birthdate"]) == (
        "Dana",
        "Female",
        "1990-05-17",
    )
    db.session.refresh(person)
    assert person.pco_id == created["id"]
    assert person.pco_snapshot["first_name"] == "Dana"


def test_push_creates_each_email_and_phone_with_a_location(db, sandbox):
    person = add_person(db, emails=("dana@example.org",), phones=(("+15550107788", "home"),))
    run_push("people")
    [email] = records(sandbox, "Email")
    [phone] = records(sandbox, "PhoneNumber")
    assert (email["address"], email["location"], email["primary"]) == (
        "dana@example.org",
        "Home",
        True,
    )
    assert (phone["number"], phone["location"]) == ("+15550107788", "Home")
    assert db.session.scalar(select(PersonEmail.pco_id)) == email["id"]
    assert db.session.scalar(select(PersonPhone.pco_id)) == phone["id"]
    assert email["person_id"] == phone["person_id"] == db.session.get(Person, person.id).pco_id


def test_rerun_with_nothing_new_makes_no_write_request(db, sandbox):
    add_person(db, emails=("dana@example.org",), phones=(("+15550107788", None),))
    run_push("people")
    sandbox.clear_requests()
    run_push("people")
    assert sandbox.requests() == []


def test_dry_run_writes_nothing_and_counts_what_it_would_create(db, sandbox):
    person = add_person(db, emails=("dana@example.org",), phones=(("+15550107788", None),))
    report = run_push("people", dry_run=True)
    assert writes(sandbox) == []
    assert report.counts["created"] == 3
    db.session.refresh(person)
    assert person.pco_id is None


def test_person_already_in_pco_with_our_remote_id_is_linked_not_created(db, sandbox):
    person = add_person(db)
    existing = sandbox.add_person(first_name="Dana", last_name="Newcomer", remote_id=person.id)
    run_push("people")
    assert [p["id"] for p in _pco_people(sandbox)] == [existing]
    assert db.session.get(Person, person.id).pco_id == existing


def test_unambiguous_email_match_is_linked_and_given_our_remote_id(db, sandbox):
    person = add_person(db, emails=("Dana@Example.org",))
    existing = sandbox.add_person(first_name="Dana", last_name="N", emails=["dana@example.org"])
    run_push("people")
    [pco] = _pco_people(sandbox)
    assert pco["id"] == existing and pco["remote_id"] == person.id
    row = db.session.get(Person, person.id)
    assert row.pco_id == existing
    assert row.last_name == "N"  # no common base yet: PCO's values win
    assert len(records(sandbox, "Email")) == 1  # the address PCO had is linked, not added


def test_email_matching_two_pco_people_is_held_not_guessed(db, sandbox):
    person = add_person(db, emails=("shared@example.org",))
    first = sandbox.add_person(first_name="Dana", last_name="One", emails=["shared@example.org"])
    second = sandbox.add_person(first_name="Dana", last_name="Two", emails=["shared@example.org"])
    run_push("people")
    assert len(_pco_people(sandbox)) == 2
    assert db.session.get(Person, person.id).pco_id is None
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert (issue.kind, issue.local_id) == ("ambiguous", person.id)
    assert sorted(issue.candidates) == sorted([int(first), int(second)])


def test_email_match_carrying_a_foreign_remote_id_is_held(db, sandbox):
    person = add_person(db, emails=("dana@example.org",))
    sandbox.add_person(
        first_name="Dana", last_name="N", remote_id=987654, emails=["dana@example.org"]
    )
    run_push("people")
    assert len(_pco_people(sandbox)) == 1
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert issue.kind == "ambiguous" and "987654" in issue.reason
    assert db.session.get(Person, person.id).pco_id is None


def test_family_sharing_one_email_gets_one_pco_person_each(db, sandbox):
    add_person(db, "Ann", "Lee", emails=("lees@example.org",))
    add_person(db, "Bob", "Lee", emails=("lees@example.org",))
    run_push("people")
    assert sorted(p["first_name"] for p in _pco_people(sandbox)) == ["Ann", "Bob"]
    assert db.session.scalars(select(Person.pco_id)).all().count(None) == 0


def test_invalid_email_fails_with_pcos_reason_and_the_person_is_still_created(db, sandbox):
    person = add_person(db, emails=("not-an-email",), phones=(("+15550107788", None),))
    report = run_push("people")
    assert len(_pco_people(sandbox)) == 1 and len(records(sandbox, "PhoneNumber")) == 1
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert (issue.kind, issue.resource_type) == ("rejected", "Email")
    assert "address is invalid" in issue.reason
    assert (report.counts["failed"], report.counts["skipped"]) == (1, 0)
    assert db.session.get(Person, person.id).pco_id is not None


def test_contact_pco_already_has_is_linked_not_added_again(db, sandbox):
    person = add_person(db, phones=(("+15550101234", "Mobile"),))
    existing = sandbox.add_person(
        first_name="Dana",
        last_name="Newcomer",
        remote_id=person.id,
        phone_numbers=["(555) 010-1234"],
    )
    run_push("people")
    [phone] = records(sandbox, "PhoneNumber")
    assert phone["person_id"] == existing
    assert db.session.scalar(select(PersonPhone.pco_id)) == phone["id"]


def _linked_person(db, sandbox):
    person = add_person(db, "Dana", "Newcomer")
    run_push("people")
    db.session.refresh(person)
    sandbox.clear_requests()
    return person


def test_local_only_change_is_patched_to_pco(db, sandbox):
    person = _linked_person(db, sandbox)
    person.last_name = "Married"
    db.session.commit()
    run_push("people")
    [patch] = writes(sandbox)
    assert patch["method"] == "PATCH"
    assert _pco_people(sandbox)[0]["last_name"] == "Married"
    assert db.session.get(Person, person.id).pco_snapshot["last_name"] == "Married"


def test_pco_only_change_is_pulled_not_overwritten(db, sandbox):
    person = _linked_person(db, sandbox)
    sandbox.edit_person(person.pco_id, first_name="Danielle")
    person.dob = date(1991, 1, 1)  # a local change elsewhere makes the push look at this person
    db.session.commit()
    run_push("people")
    pco = _pco_people(sandbox)[0]
    assert (pco["first_name"], pco["birthdate"]) == ("Danielle", "1991-01-01")
    assert db.session.get(Person, person.id).first_name == "Danielle"


def test_both_changed_records_a_conflict_and_pco_wins(db, sandbox):
    person = _linked_person(db, sandbox)
    sandbox.edit_person(person.pco_id, last_name="FromPco")
    person.last_name = "FromSite"
    db.session.commit()
    run_push("people")
    assert writes(sandbox) == []
    assert _pco_people(sandbox)[0]["last_name"] == "FromPco"
    assert db.session.get(Person, person.id).last_name == "FromPco"
    conflict = db.session.scalar(select(current_pco().models.Conflict))
    assert (conflict.field, conflict.local_value, conflict.pco_value, conflict.base_value) == (
        "last_name",
        "FromSite",
        "FromPco",
        "Newcomer",
    )


def test_linked_person_deleted_in_pco_is_reported_not_recreated(db, sandbox):
    person = _linked_person(db, sandbox)
    sandbox.delete_person(person.pco_id)
    person.first_name = "Edited"
    db.session.commit()
    run_push("people")
    assert _pco_people(sandbox) == [] and writes(sandbox) == []
    issue = db.session.scalar(select(current_pco().models.SyncIssue))
    assert issue.kind == "failed" and "no longer exists" in issue.reason


def test_push_after_a_pull_sends_nothing(db, sandbox):
    from flask_pco.sync.engine import execute_run
    from flask_pco.sync.runs import queue_run

    sandbox.reset(people=6, seed=3)
    state = current_pco()
    execute_run(state, queue_run(state, "people", "pull"), state.client())
    assert db.session.scalars(select(Person.pco_id)).all().count(None) == 0
    sandbox.clear_requests()
    run_push("people")
    assert sandbox.requests() == []


def test_written_person_keeps_pcos_updated_at_so_the_webhook_echo_is_old_news(db, sandbox):
    person = add_person(db)
    run_push("people")
    [pco] = _pco_people(sandbox)
    db.session.refresh(person)
    assert person.pco_updated_at.isoformat() + "Z" == pco["updated_at"]
    assert person.pco_snapshot == {
        "first_name": "Dana",
        "last_name": "Newcomer",
        "gender": None,
        "dob": "1990-05-17",
        "child": False,
        "is_active": True,
        "shirt_size": None,  # example_app's custom fields, agreed empty with PCO
        "baptism_date": None,
        # The example site's optional person columns, agreed as empty:
        **dict.fromkeys(
            ("nickname", "middle_name", "membership", "grade", "graduation_year"), None
        ),
        "anniversary": None,
        "primary_campus": None,
    }


def test_edits_of_a_few_linked_people_fetch_them_instead_of_listing_everyone(db, sandbox):
    sandbox.reset(people=250, seed=5)  # three pages of PCO people
    person = _linked_person(db, sandbox)
    person.last_name = "Edited"
    db.session.commit()
    run_push("people")
    reads = [r["path"] for r in sandbox.requests() if r["method"] == "GET"]
    assert len(reads) == 2  # the first page (to learn the size), then the one person
    assert reads[1].startswith(f"/people/v2/people/{person.pco_id}")
    assert (
        next(p for p in _pco_people(sandbox) if p["id"] == person.pco_id)["last_name"] == "Edited"
    )


def test_dry_run_of_a_local_edit_counts_the_update_and_sends_no_patch(db, sandbox):
    person = _linked_person(db, sandbox)
    person.last_name = "Edited"
    db.session.commit()
    report = run_push("people", dry_run=True)
    assert writes(sandbox) == []
    assert report.counts["updated"] == 1
    row = db.session.get(Person, person.id)
    assert row.pco_snapshot["last_name"] == "Newcomer" and row.last_name == "Edited"


def test_email_edited_here_is_patched_on_the_linked_email(db, sandbox):
    person = add_person(db, emails=("old@example.org",), phones=(("+15550107788", "Mobile"),))
    run_push("people")
    email = db.session.scalar(select(PersonEmail))
    email.email = "new@example.org"
    db.session.commit()
    sandbox.clear_requests()
    run_push("people")
    [patch] = writes(sandbox)
    assert (patch["method"], patch["path"]) == ("PATCH", f"/people/v2/emails/{email.pco_id}")
    assert [e["address"] for e in records(sandbox, "Email")] == ["new@example.org"]
    sandbox.clear_requests()
    run_push("people")
    assert sandbox.requests() == []
    assert db.session.get(Person, person.id).pco_id is not None


def test_phone_kind_edited_here_changes_the_pco_location(db, sandbox):
    add_person(db, phones=(("+15550107788", "Mobile"),))
    run_push("people")
    phone = db.session.scalar(select(PersonPhone))
    phone.kind = "Work"
    db.session.commit()
    run_push("people")
    assert records(sandbox, "PhoneNumber")[0]["location"] == "Work"
