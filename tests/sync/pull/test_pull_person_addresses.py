"""Every PCO address of a person, for a host with a person-address model, kept in step."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.conftest import sandbox_person

HOME = {"street_line_1": "1 Gate St", "street_line_2": "Flat 2", "city": "Bethany",
        "state": "IL", "zip": "62701", "location": "Home", "primary": True}  # fmt: skip
WORK = {"street_line_1": "9 Market Sq", "city": "Springfield", "state": "IL", "zip": "62702",
        "location": "Work", "primary": False}  # fmt: skip


def addresses(models, pco_id):
    query = (
        select(models.PersonAddress)
        .join(models.Person, models.Person.id == models.PersonAddress.person_id)
        .where(models.Person.pco_id == pco_id)
        .order_by(models.PersonAddress.street_line_1)
    )
    return [
        (a.street_line_1, a.street_line_2, a.city, a.state, a.zip, a.location, a.is_primary)
        for a in models.db.session.scalars(query)
    ]


def test_every_address_pco_has_for_a_person_is_pulled(sandbox, run_sync, models):
    martha = sandbox_person(sandbox, "Martha", "Bethany", addresses=[HOME, WORK])
    run_sync("pull", "people")
    assert addresses(models, martha) == [
        ("1 Gate St", "Flat 2", "Bethany", "IL", "62701", "Home", True),
        ("9 Market Sq", None, "Springfield", "IL", "62702", "Work", False),
    ]


def test_addresses_added_changed_and_removed_in_pco_follow_here(sandbox, run_sync, models):
    martha = sandbox_person(sandbox, "Martha", "Bethany", addresses=[HOME, WORK])
    run_sync("pull", "people")
    home, work = (a["id"] for a in sandbox.state()["records"]["Address"])
    sandbox.edit("addresses", home, city="Bethphage")
    sandbox.delete("addresses", work)
    sandbox.add_address(martha, street_line_1="4 Olive Rd", city="Jerusalem", location="Other")
    again = run_sync("pull", "people")
    assert again.updated == 1
    assert addresses(models, martha) == [
        ("1 Gate St", "Flat 2", "Bethphage", "IL", "62701", "Home", True),
        ("4 Olive Rd", None, "Jerusalem", None, None, "Other", False),
    ]


def test_an_address_the_site_added_itself_is_left_alone(sandbox, run_sync, models):
    martha = sandbox_person(sandbox, "Martha", "Bethany", addresses=[HOME])
    run_sync("pull", "people")
    row = models.db.session.scalar(select(models.Person).where(models.Person.pco_id == martha))
    models.db.session.add(models.PersonAddress(person_id=row.id, street_line_1="Local only"))
    models.db.session.commit()
    sandbox.edit_person(martha, first_name="Marta")
    run_sync("pull", "people")
    assert [a[0] for a in addresses(models, martha)] == ["1 Gate St", "Local only"]


def test_the_family_still_takes_the_primary_address(sandbox, run_sync, models):
    martha = sandbox_person(sandbox, "Martha", "Bethany", addresses=[WORK, HOME])
    sandbox.add_household([martha], "Bethany")
    run_sync("pull", "full")
    family = models.db.session.scalar(select(models.Family).where(models.Family.name == "Bethany"))
    assert (family.street, family.city) == ("1 Gate St, Flat 2", "Bethany")


def test_addresses_cost_no_request_of_their_own(sandbox, run_sync, models, count):
    sandbox.reset(people=30, seed=3)
    sandbox.clear_requests()
    run_sync("pull", "people")
    reads = [r["path"].split("?")[0] for r in sandbox.requests() if r["method"] == "GET"]
    assert count(models.PersonAddress) == len(sandbox.state()["records"]["Address"])
    assert reads.count("/people/v2/people") == 3  # 30 people, 10 a page
    assert not [p for p in reads if "addresses" in p or p.startswith("/people/v2/people/")]
