"""The optional person fields: pulled where the host has the column, pushed where PCO allows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.sync.conftest import sandbox_person


def pulled(models, pco_id):
    return models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))


def test_the_optional_person_fields_pco_sends_are_pulled_into_the_hosts_columns(
    sandbox, run_sync, models
):
    pco_id = sandbox_person(
        sandbox,
        "Samuel",
        "Ramah",
        nickname="Sam",
        middle_name="Elkanah",
        membership="Member",
        grade=4,
        graduation_year=2034,
        anniversary="2001-06-09",
        avatar="https://avatars.example.org/sam.png",
    )
    run_sync("pull", "people")
    person = pulled(models, pco_id)
    assert (person.nickname, person.middle_name, person.membership) == ("Sam", "Elkanah", "Member")
    assert (person.grade, person.graduation_year) == (4, 2034)
    assert person.anniversary == date(2001, 6, 9)
    assert person.avatar_url == "https://avatars.example.org/sam.png"


def test_a_change_in_pco_to_an_optional_field_is_pulled(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Hannah", "Ramah", membership="Visitor")
    run_sync("pull", "people")
    sandbox.edit_person(pco_id, membership="Member", nickname="Annie")
    again = run_sync("pull", "people")
    person = pulled(models, pco_id)
    assert (again.updated, person.membership, person.nickname) == (1, "Member", "Annie")


def test_a_local_edit_of_a_writable_field_is_pushed_to_pco(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Eli", "Shiloh", membership="Visitor")
    run_sync("pull", "people")
    person = pulled(models, pco_id)
    person.membership, person.grade, person.anniversary = "Member", 7, date(1999, 1, 2)
    models.db.session.commit()
    pushed = run_sync("push", "people")
    assert pushed.status == "succeeded", pushed.error_message
    record = {p["id"]: p for p in sandbox.state()["records"]["Person"]}[pco_id]
    assert (record["membership"], record["grade"], record["anniversary"]) == (
        "Member",
        7,
        "1999-01-02",
    )


def test_a_local_edit_of_a_pull_only_field_is_never_sent(sandbox, run_sync, models):
    """PCO sets an avatar from an upload, not a URL: the site's value waits for PCO's."""
    pco_id = sandbox_person(sandbox, "Eli", "Shiloh", avatar="https://avatars.example.org/e.png")
    run_sync("pull", "people")
    person = pulled(models, pco_id)
    person.avatar_url = "https://church.example.org/eli.png"
    models.db.session.commit()
    sandbox.clear_requests()
    run_sync("push", "people")
    assert not [r for r in sandbox.requests() if r["method"] in ("PATCH", "POST")]
    sandbox.edit_person(pco_id, first_name="Eli")  # any change in PCO: the person is read again
    run_sync("pull", "people")
    assert pulled(models, pco_id).avatar_url == "https://avatars.example.org/e.png"


def test_an_unset_optional_field_in_pco_clears_the_local_one(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Ruth", "Moab", nickname="Ruthie")
    run_sync("pull", "people")
    sandbox.edit_person(pco_id, nickname=None)
    run_sync("pull", "people")
    assert pulled(models, pco_id).nickname is None


def test_every_person_field_pco_lets_a_site_write_is_synced_both_ways() -> None:
    """``field_rules.PCO_OWNED`` (below the mapping layer) names the writable optional fields
    by hand; this keeps it equal to what ``mapping.person_fields`` declares."""
    from flask_pco.field_rules import PCO_OWNED
    from flask_pco.mapping.person_fields import PULL_ONLY_PERSON_FIELDS, WRITABLE_PERSON_FIELDS

    assert set(WRITABLE_PERSON_FIELDS) <= set(PCO_OWNED["person"])
    assert not set(PULL_ONLY_PERSON_FIELDS) & set(PCO_OWNED["person"])
