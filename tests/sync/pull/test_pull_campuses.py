"""Campuses: one listing per run, people linked to their primary campus, both ways."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.conftest import sandbox_person


def campus_named(models, name):
    return models.db.session.scalar(select(models.Campus).where(models.Campus.name == name))


def person(models, pco_id):
    return models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))


def test_pco_campuses_are_pulled_into_the_campus_model(sandbox, run_sync, models):
    pco_id = sandbox.add_campus("Hilltop", time_zone="America/Denver", city="Boulder", state="CO")
    run = run_sync("pull", "campuses")
    campus = campus_named(models, "Hilltop")
    assert (run.status, run.created) == ("succeeded", 1)
    assert (campus.pco_id, campus.time_zone, campus.city, campus.state) == (
        pco_id,
        "America/Denver",
        "Boulder",
        "CO",
    )


def test_a_renamed_campus_is_renamed_here(sandbox, run_sync, models):
    pco_id = sandbox.add_campus("Hilltop")
    run_sync("pull", "campuses")
    sandbox.edit("campuses", pco_id, name="Hilltop Chapel")
    again = run_sync("pull", "campuses")
    assert (again.updated, campus_named(models, "Hilltop Chapel").pco_id) == (1, pco_id)


def test_people_are_linked_to_their_primary_campus(sandbox, run_sync, models):
    hilltop, valley = sandbox.add_campus("Hilltop"), sandbox.add_campus("Valley")
    anna = sandbox_person(sandbox, "Anna", "Asher", primary_campus_id=hilltop)
    simeon = sandbox_person(sandbox, "Simeon", "Judah")
    run = run_sync("pull", "full")
    assert run.status == "succeeded", run.error_message
    assert person(models, anna).primary_campus_id == campus_named(models, "Hilltop").id
    assert person(models, simeon).primary_campus_id is None
    sandbox.edit_person(anna, primary_campus_id=valley)
    run_sync("pull", "people")
    assert person(models, anna).primary_campus_id == campus_named(models, "Valley").id


def test_a_campus_changed_here_is_pushed_as_pcos_campus_id(sandbox, run_sync, models):
    hilltop, valley = sandbox.add_campus("Hilltop"), sandbox.add_campus("Valley")
    anna = sandbox_person(sandbox, "Anna", "Asher", primary_campus_id=hilltop)
    run_sync("pull", "campuses")
    run_sync("pull", "people")
    person(models, anna).primary_campus_id = campus_named(models, "Valley").id
    models.db.session.commit()
    pushed = run_sync("push", "people")
    assert pushed.status == "succeeded", pushed.error_message
    record = {p["id"]: p for p in sandbox.state()["records"]["Person"]}[anna]
    assert record["primary_campus_id"] == valley
    again = run_sync("push", "people")
    assert (again.created, again.updated) == (0, 0)  # agreed: nothing left to send


def test_a_campus_made_in_pco_since_the_last_campus_pull_is_read_once_by_the_people_pull(
    sandbox, run_sync, models
):
    hilltop = sandbox.add_campus("Hilltop")
    run_sync("pull", "campuses")
    anna = sandbox_person(sandbox, "Anna", "Asher", primary_campus_id=hilltop)
    simeon = sandbox_person(sandbox, "Simeon", "Judah")
    run_sync("pull", "people")
    newer = sandbox.add_campus("Newer")
    sandbox.edit_person(anna, primary_campus_id=newer)
    sandbox.edit_person(simeon, primary_campus_id=newer)
    sandbox.clear_requests()
    run_sync("pull", "people")
    newer_id = campus_named(models, "Newer").id
    assert person(models, anna).primary_campus_id == person(models, simeon).primary_campus_id
    assert person(models, anna).primary_campus_id == newer_id
    reads = [r["path"].split("?")[0] for r in sandbox.requests() if r["method"] == "GET"]
    assert reads.count("/people/v2/campuses") == 1


def test_campuses_cost_one_request_and_people_none_more(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)  # generated people name one of two campuses
    sandbox.clear_requests()
    run_sync("pull", "campuses")
    run_sync("pull", "people")
    reads = [r["path"].split("?")[0] for r in sandbox.requests() if r["method"] == "GET"]
    assert reads.count("/people/v2/campuses") == 1
    people_pages = [p for p in reads if p == "/people/v2/people"]
    assert len(people_pages) == 3  # 30 people, 10 a page: one request a page, none per person
    assert not [p for p in reads if p.startswith(("/people/v2/people/", "/people/v2/campuses/"))]
    linked = models.db.session.scalars(select(models.Person.primary_campus_id)).all()
    assert {c for c in linked if c is not None} == {
        campus_named(models, "Downtown").id,
        campus_named(models, "Westside").id,
    }
