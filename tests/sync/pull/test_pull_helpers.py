"""The single-person helpers webhooks reuse, and the cost of a page in SQL statements."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.custom_fields import person_custom_fields
from flask_pco.sync.pull.people import apply_person, deactivate_person, fetch_person
from flask_pco.sync.removals import settle_removals
from flask_pco.sync.runs import queue_run
from tests.sync.conftest import sandbox_person


@pytest.fixture
def ctx(state):
    run = queue_run(state, "people", "webhook")
    return SyncContext(state, state.client(), RunReporter(state, run))


def test_fetch_person_returns_the_person_with_contacts_in_one_request(sandbox, ctx):
    pco_id = sandbox_person(
        sandbox, "Fe", "Tch", emails=["fe@example.org"], phone_numbers=["503-555-0123"]
    )
    person_custom_fields(ctx)  # the site's custom field definitions: once per run, not per person
    before = ctx.client.request_count
    person = fetch_person(ctx, pco_id)
    assert ctx.client.request_count - before == 1
    assert (
        person.first_name,
        [e.address for e in person.emails],
        [p.e164 for p in person.phones],
    ) == ("Fe", ["fe@example.org"], ["+15035550123"])


def test_fetch_person_of_a_deleted_person_is_none(sandbox, ctx):
    assert fetch_person(ctx, "99999999") is None


def test_apply_person_creates_then_reports_unchanged(sandbox, ctx, models):
    person = fetch_person(ctx, sandbox_person(sandbox, "Ap", "Ply"))
    assert apply_person(ctx, person) == "created"
    ctx.session.commit()
    assert apply_person(ctx, person) == "unchanged"


def test_apply_person_never_lets_an_older_version_overwrite_a_newer_one(sandbox, ctx, models):
    person = fetch_person(ctx, sandbox_person(sandbox, "New", "Est"))
    apply_person(ctx, person)
    ctx.session.commit()
    older = dataclasses.replace(
        person, first_name="Old", updated_at=person.updated_at - timedelta(minutes=5)
    )
    assert apply_person(ctx, older) == "unchanged"
    ctx.session.commit()
    assert models.db.session.scalar(select(models.Person.first_name)) == "New"


def test_apply_person_holds_an_ambiguous_match(sandbox, ctx, local_person, models):
    local_person("Cy", "One", emails=("same@example.org",))
    local_person("Cy", "Two", emails=("same@example.org",))
    person = fetch_person(ctx, sandbox_person(sandbox, "Cy", "Three", emails=["same@example.org"]))
    assert apply_person(ctx, person) == "held"


def test_deactivate_person_marks_inactive_once(sandbox, ctx, models):
    pco_id = sandbox_person(sandbox, "De", "Act")
    apply_person(ctx, fetch_person(ctx, pco_id))
    ctx.session.commit()
    assert deactivate_person(ctx, pco_id) is True
    settle_removals(ctx)
    assert deactivate_person(ctx, pco_id) is False
    assert models.db.session.scalar(select(models.Person.is_active)) is False
    assert deactivate_person(ctx, "nobody") is False


def test_a_page_costs_the_same_number_of_statements_whatever_its_size(
    sandbox, run_sync, models, state
):
    """No query per record: 5 and 10 people on one page cost the same statements."""
    statements = []
    event.listen(models.db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    counts = []
    for size in (5, 10):
        sandbox.reset(people=0)
        for n in range(size):
            sandbox_person(
                sandbox,
                f"P{n}",
                "Page",
                emails=[f"p{n}@example.org"],
                phone_numbers=["503-555-0100"],
            )
        statements.clear()
        run_sync("pull", "people")
        counts.append(len(statements))
        for model in (
            models.PersonEmail,
            models.PersonPhone,
            models.Person,
            state.models.SyncCursor,
            state.models.Setting,  # the fields a complete pull settled: a fresh site has none
        ):
            models.db.session.query(model).delete()
        models.db.session.commit()
    assert counts[0] == counts[1]


def test_the_persons_primary_address_reaches_their_family_on_a_people_pull(
    sandbox, run_sync, models
):
    ids = sandbox.load_scenario(
        {
            "people": [
                {
                    "first_name": "Ad",
                    "last_name": "Dress",
                    "addresses": [
                        {
                            "street_line_1": "1 Old St",
                            "city": "Salem",
                            "state": "OR",
                            "zip": "97301",
                        }
                    ],
                }
            ],
            "households": [{"name": "Dress Household", "people": [0], "primary_contact": 0}],
        }
    )
    run_sync("pull", "full")
    address = sandbox.state()["records"]["Address"][0]
    sandbox.edit("addresses", address["id"], street_line_1="2 New Ave")
    run_sync("pull", "people")
    family = models.db.session.scalar(select(models.Family))
    assert (family.pco_id, family.street) == (ids["households"][0], "2 New Ave")


def test_contacts_pco_moved_to_a_person_new_here_move_with_them(sandbox, ctx, models):
    was = fetch_person(ctx, sandbox_person(sandbox, "Was", "Here", emails=["moved@example.org"],
                                           phone_numbers=["503-555-0123"]))  # fmt: skip
    apply_person(ctx, was)
    ctx.session.commit()
    newcomer = fetch_person(ctx, sandbox_person(sandbox, "New", "Comer"))
    # As after a merge in PCO: the newcomer holds the email and phone (same PCO ids) now.
    moved = dataclasses.replace(newcomer, emails=was.emails, phones=was.phones)

    assert apply_person(ctx, moved) == "created"
    ctx.session.commit()

    new_id = models.db.session.scalar(
        select(models.Person.id).where(models.Person.pco_id == newcomer.pco_id)
    )
    for model in (models.PersonEmail, models.PersonPhone):
        assert list(models.db.session.scalars(select(model.person_id))) == [new_id]
