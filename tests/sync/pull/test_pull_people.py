"""pull people against the sandbox: creation, matching tiers, ownership, incremental, safety."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.sync.conftest import sandbox_person


def people_by_pco_id(models):
    return {p.pco_id: p for p in models.db.session.scalars(select(models.Person))}


def test_full_pull_creates_every_sandbox_person_with_their_contacts(
    sandbox, run_sync, models, count
):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    run = run_sync("pull", "people")
    assert run.status == "succeeded", run.error_message
    assert run.created == count(models.Person) == len(records["Person"])
    assert set(people_by_pco_id(models)) == {p["id"] for p in records["Person"]}
    assert count(models.PersonEmail) == len(records["Email"])
    phones = models.db.session.scalars(select(models.PersonPhone.phone)).all()
    assert phones and all(p.startswith("+") and p[1:].isdigit() for p in phones)


def test_a_second_full_pull_changes_nothing(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    again = run_sync("pull", "people")
    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0)


def test_pco_values_are_mapped_to_local_form(sandbox, run_sync, models):
    pco_id = sandbox_person(
        sandbox,
        "Ana",
        "Ruiz",
        gender="Female",
        birthdate=date(2015, 2, 3),
        child=True,
        emails=["Ana@Example.org"],
        phone_numbers=["(503) 555-0101"],
    )
    run_sync("pull", "people")
    person = people_by_pco_id(models)[pco_id]
    assert (person.gender, person.dob, person.is_child, person.is_active) == (
        "F",
        date(2015, 2, 3),
        True,
        True,
    )
    assert [p.phone for p in person.phones] == ["+15035550101"]
    assert [e.email for e in person.emails] == ["Ana@Example.org"]
    assert person.pco_updated_at is not None and person.pco_synced_at is not None


def test_matches_an_already_linked_person_by_pco_id(sandbox, run_sync, models, local_person, count):
    pco_id = sandbox_person(sandbox, "Renamed", "InPco")
    mine = local_person("Old", "Name", pco_id=pco_id)
    run = run_sync("pull", "people")
    assert (run.created, run.updated, count(models.Person)) == (0, 1, 1)
    models.db.session.refresh(mine)
    assert (mine.first_name, mine.last_name) == ("Renamed", "InPco")


def test_matches_by_pco_remote_id_which_is_our_people_id(
    sandbox, run_sync, models, local_person, count
):
    mine = local_person("Pushed", "Before")
    pco_id = sandbox_person(sandbox, "Pushed", "Later", remote_id=mine.id)
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert (mine.pco_id, mine.last_name, count(models.Person)) == (pco_id, "Later", 1)


def test_matches_by_email_case_insensitively(sandbox, run_sync, models, local_person, count):
    mine = local_person("Jo", "Local", emails=("jo@example.org",))
    pco_id = sandbox_person(sandbox, "JO", "Pco", emails=["JO@Example.ORG"])
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert (mine.pco_id, count(models.Person), count(models.PersonEmail)) == (pco_id, 1, 1)


def test_matches_by_name_and_birth_date(sandbox, run_sync, models, local_person, count):
    mine = local_person("Sam", "Lee", dob=date(1990, 5, 6))
    pco_id = sandbox_person(sandbox, "sam", "LEE", birthdate=date(1990, 5, 6))
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert (mine.pco_id, count(models.Person)) == (pco_id, 1)


def test_same_name_with_another_birth_date_is_a_new_person(
    sandbox, run_sync, models, local_person, count
):
    local_person("Sam", "Lee", dob=date(1990, 5, 6))
    sandbox_person(sandbox, "Sam", "Lee", birthdate=date(1991, 5, 6))
    run = run_sync("pull", "people")
    assert (run.created, count(models.Person)) == (1, 2)


def test_a_person_linked_to_another_pco_record_is_never_matched(
    sandbox, run_sync, models, local_person, count
):
    mine = local_person("Jo", "Local", emails=("jo@example.org",), pco_id="424242")
    sandbox_person(sandbox, "Jo", "Other", emails=["jo@example.org"])
    run = run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert (run.created, mine.pco_id, count(models.Person)) == (1, "424242", 2)


def test_an_email_shared_by_two_local_people_is_held_not_guessed(
    sandbox, run_sync, models, local_person, count
):
    first = local_person("Cy", "One", emails=("shared@example.org",))
    second = local_person("Cy", "Two", emails=("shared@example.org",))
    pco_id = sandbox_person(sandbox, "Cy", "Three", emails=["shared@example.org"])
    run = run_sync("pull", "people")
    assert (run.status, run.created, run.held, count(models.Person)) == ("succeeded", 0, 1, 2)
    issue = models.db.session.scalar(select(run_issue_model(models)))
    assert (issue.kind, issue.pco_id, sorted(issue.candidates)) == (
        "ambiguous",
        pco_id,
        sorted([first.id, second.id]),
    )
    assert "email" in issue.reason
    assert all(p.pco_id is None for p in models.db.session.scalars(select(models.Person)))


def test_a_held_match_is_listed_once_however_many_runs_meet_it(
    sandbox, run_sync, models, local_person
):
    local_person("Cy", "One", emails=("shared@example.org",))
    local_person("Cy", "Two", emails=("shared@example.org",))
    sandbox_person(sandbox, "Cy", "Three", emails=["shared@example.org"])
    run_sync("pull", "people")
    again = run_sync("pull", "people")
    issues = models.db.session.scalars(select(run_issue_model(models))).all()
    assert again.held == 1
    assert [(i.kind, i.run_id) for i in issues] == [("ambiguous", again.id)]


def test_several_people_with_the_same_name_and_birth_date_are_held(
    sandbox, run_sync, models, local_person, count
):
    for _ in range(2):
        local_person("Kim", "Park", dob=date(2001, 1, 1))
    sandbox_person(sandbox, "Kim", "Park", birthdate=date(2001, 1, 1))
    run = run_sync("pull", "people")
    assert (run.created, run.held, count(models.Person)) == (0, 1, 2)
    issue = models.db.session.scalar(select(run_issue_model(models)))
    assert issue.kind == "ambiguous" and len(issue.candidates) == 2


def test_local_owned_fields_and_check_ins_survive_a_pull(sandbox, run_sync, models, local_person):
    mine = local_person(
        "Kid",
        "Oldname",
        emails=("kid@example.org",),
        allergies="peanuts",
        photo_url="/p.png",
        is_verified=True,
    )
    models.db.session.add(models.CheckIn(person_id=mine.id, security_code="AB12"))
    models.db.session.commit()
    sandbox_person(sandbox, "Kid", "Newname", emails=["kid@example.org"])
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert (mine.last_name, mine.allergies, mine.photo_url, mine.is_verified) == (
        "Newname",
        "peanuts",
        "/p.png",
        True,
    )
    assert models.db.session.scalar(select(models.CheckIn.security_code)) == "AB12"


def test_a_person_deleted_in_pco_is_marked_inactive_not_deleted(sandbox, run_sync, models, count):
    keep = sandbox_person(sandbox, "Stays", "Here")
    gone = sandbox_person(sandbox, "Goes", "Away")
    run_sync("pull", "people")
    sandbox.delete_person(gone)
    first = run_sync("pull", "people")
    assert (first.removed, people_by_pco_id(models)[gone].pco_misses) == (0, 1)
    run = run_sync("pull", "people")
    people = people_by_pco_id(models)
    assert (count(models.Person), run.removed) == (2, 1)
    assert (people[gone].is_active, people[keep].is_active) == (False, True)
    assert people[gone].pco_removed_run == run.id


def test_inactive_status_in_pco_makes_the_local_person_inactive(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Not", "Here", status="inactive")
    run_sync("pull", "people")
    assert people_by_pco_id(models)[pco_id].is_active is False


def test_a_field_changed_on_both_sides_keeps_pco_and_records_a_conflict(
    sandbox, run_sync, models, state
):
    pco_id = sandbox_person(sandbox, "Original", "Name")
    run_sync("pull", "people")
    mine = people_by_pco_id(models)[pco_id]
    mine.first_name = "LocalEdit"
    models.db.session.commit()
    sandbox.edit_person(pco_id, first_name="PcoEdit")
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    conflict = models.db.session.scalar(select(state.models.Conflict))
    assert mine.first_name == "PcoEdit"
    assert (conflict.field, conflict.local_value, conflict.pco_value, conflict.base_value) == (
        "first_name",
        "LocalEdit",
        "PcoEdit",
        "Original",
    )


def test_a_field_changed_only_locally_is_left_for_push(sandbox, run_sync, models, state):
    pco_id = sandbox_person(sandbox, "Original", "Name")
    run_sync("pull", "people")
    mine = people_by_pco_id(models)[pco_id]
    mine.last_name = "LocalOnly"
    models.db.session.commit()
    run_sync("pull", "people")
    models.db.session.refresh(mine)
    assert mine.last_name == "LocalOnly"
    assert mine.pco_snapshot["last_name"] == "Name"  # push still sees the local edit


def test_local_only_emails_are_kept_and_emails_removed_in_pco_are_removed(
    sandbox, run_sync, models
):
    pco_id = sandbox_person(
        sandbox, "Two", "Emails", emails=["keep@example.org", "drop@example.org"]
    )
    run_sync("pull", "people")
    mine = people_by_pco_id(models)[pco_id]
    models.db.session.add(models.PersonEmail(person_id=mine.id, email="local@example.org"))
    models.db.session.commit()
    dropped = next(
        e["id"] for e in sandbox.state()["records"]["Email"] if e["address"] == "drop@example.org"
    )
    sandbox.delete("emails", dropped)
    sandbox.edit_person(pco_id, first_name="Touched")
    run_sync("pull", "people")
    emails = sorted(models.db.session.scalars(select(models.PersonEmail.email)))
    assert emails == ["keep@example.org", "local@example.org"]


def test_an_invalid_phone_is_dropped_and_counted_but_the_person_is_kept(
    sandbox, run_sync, models, count, state
):
    pco_id = sandbox_person(sandbox, "Bad", "Phone", phone_numbers=["12", "503-555-0199"])
    run = run_sync("pull", "people")
    assert (run.created, run.skipped) == (1, 1)
    assert [p.phone for p in people_by_pco_id(models)[pco_id].phones] == ["+15035550199"]
    issue = models.db.session.scalar(select(state.models.SyncIssue))
    assert issue.kind == "invalid" and "'12'" in issue.reason


def test_a_malformed_person_is_skipped_with_its_reason_and_the_run_goes_on(
    sandbox, run_sync, models, count, state
):
    bad = sandbox_person(sandbox, "", "")
    sandbox_person(sandbox, "Good", "One")
    run = run_sync("pull", "people")
    assert (run.status, run.created, run.skipped, count(models.Person)) == ("succeeded", 1, 1, 1)
    issue = models.db.session.scalar(select(state.models.SyncIssue))
    assert issue.pco_id == bad and "name" in issue.reason


def test_dry_run_counts_changes_but_writes_nothing(sandbox, run_sync, models, count, state):
    sandbox.reset(people=12, seed=2)
    run = run_sync("pull", "people", dry_run=True)
    assert (run.status, run.created) == ("succeeded", 12)
    assert count(models.Person) == 0 and count(models.PersonEmail) == 0
    assert count(state.models.SyncCursor) == 0


def test_list_selective_pull_takes_only_that_lists_people(sandbox, run_sync, models, state):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    list_id = records["List"][0]["id"]
    members = {r["person_id"] for r in records["ListResult"] if r["list_id"] == list_id}
    run = run_sync("pull", "people", list_ids=[list_id])
    assert run.status == "succeeded"
    assert set(people_by_pco_id(models)) == members
    Cursor = state.models.SyncCursor
    assert models.db.session.scalar(select(Cursor).where(Cursor.resource == "people")) is None


def test_a_list_pco_does_not_have_fails_the_run_naming_it_after_the_others_are_pulled(
    sandbox, run_sync, models, state
):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    list_id = records["List"][0]["id"]
    members = {r["person_id"] for r in records["ListResult"] if r["list_id"] == list_id}
    run = run_sync("pull", "people", list_ids=["999999", list_id])
    assert (run.status, run.error_message) == ("failed", "PCO list 999999 does not exist")
    assert set(people_by_pco_id(models)) == members
    assert run.created == len(members)
    (issue,) = models.db.session.scalars(select(state.models.SyncIssue))
    assert (issue.kind, issue.resource_type, issue.pco_id, issue.run_id) == (
        "not_found",
        "List",
        "999999",
        run.id,
    )


def test_every_missing_list_is_named(sandbox, run_sync):
    run = run_sync("pull", "people", list_ids=["999998", "999999"])
    assert (run.status, run.error_message) == ("failed", "PCO lists 999998, 999999 do not exist")


def test_a_list_id_stays_one_segment_of_the_url(sandbox, run_sync):
    run_sync("pull", "people", list_ids=["../../x"])
    (request,) = [r for r in sandbox.requests() if "field_definitions" not in r["path"]]
    assert request["path"].startswith("/people/v2/lists/../../x/people?")


def run_issue_model(models):
    from flask_pco import current_pco

    return current_pco().models.SyncIssue


def test_list_ids_may_be_given_as_one_id(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    records = sandbox.state()["records"]
    list_id = records["List"][1]["id"]
    members = {r["person_id"] for r in records["ListResult"] if r["list_id"] == list_id}
    run_sync("pull", "people", list_ids=list_id)
    assert set(people_by_pco_id(models)) == members


def test_a_linked_person_whose_pco_record_turned_malformed_is_not_deactivated(
    sandbox, run_sync, models
):
    pco_id = sandbox_person(sandbox, "Was", "Fine")
    run_sync("pull", "people")
    sandbox.edit_person(pco_id, first_name="", last_name="")
    run = run_sync("pull", "people")
    assert (run.skipped, models.db.session.scalar(select(models.Person.is_active))) == (1, True)
