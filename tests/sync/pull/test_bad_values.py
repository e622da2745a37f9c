"""A value PCO sends that the site's columns cannot hold skips that one record, named in an
issue; the rest of its page is written, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import select

from flask_pco import current_pco
from tests.sync.conftest import sandbox_person


def people_by_pco_id(models):
    return {p.pco_id: p for p in models.db.session.scalars(select(models.Person))}


def issues(models):
    return list(models.db.session.scalars(select(current_pco().models.SyncIssue)))


def test_an_over_long_name_skips_that_person_only(sandbox, run_sync, models):
    sandbox.reset(people=0)
    good = [sandbox_person(sandbox, "Ann", f"Good{i}") for i in range(3)]
    bad = sandbox_person(sandbox, "Bo", "L" * 175)

    run = run_sync("pull", "people")

    assert run.status == "succeeded", run.error_message
    assert set(people_by_pco_id(models)) == set(good)
    [issue] = [i for i in issues(models) if i.pco_id == bad]
    assert "last_name is 175 characters long" in issue.reason
    assert "people.last_name holds 120" in issue.reason
    assert run.skipped == 1


def test_an_over_long_email_skips_the_person_and_names_the_field(sandbox, run_sync, models):
    sandbox.reset(people=0)
    bad = sandbox_person(sandbox, "Cy", "Long", emails=["x" * 250 + "@example.org"])

    run = run_sync("pull", "people")

    assert run.status == "succeeded", run.error_message
    assert bad not in people_by_pco_id(models)
    [issue] = [i for i in issues(models) if i.pco_id == bad]
    assert "email is 262 characters long" in issue.reason


def test_nul_characters_are_dropped_not_refused(sandbox, run_sync, models):
    sandbox.reset(people=0)
    pco_id = sandbox_person(sandbox, "Da\x00na", "Ng\x00")

    run = run_sync("pull", "people")

    assert run.status == "succeeded", run.error_message
    person = people_by_pco_id(models)[pco_id]
    assert (person.first_name, person.last_name) == ("Dana", "Ng")


def test_a_value_only_the_database_refuses_skips_that_record_alone(sandbox, run_sync, models):
    sandbox.reset(people=20, seed=3)
    household_ids = [h["id"] for h in sandbox.state()["records"]["Household"]]
    sandbox.edit_household(household_ids[0], name="H" * 250)  # families.name holds 200
    run_sync("pull", "people")

    run = run_sync("pull", "families")

    assert run.status == "succeeded", run.error_message
    pulled = {f.pco_id for f in models.db.session.scalars(select(models.Family))}
    assert set(household_ids[1:]) <= pulled
    if models.db.engine.dialect.name == "postgresql":  # SQLite keeps the long name
        assert household_ids[0] not in pulled
        [issue] = [i for i in issues(models) if i.pco_id == household_ids[0]]
        assert issue.reason.startswith("not written: value too long")
