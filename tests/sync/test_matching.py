"""PersonMatcher on its own: tiers decided from bulk-loaded candidates, a few queries a page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from flask_pco.mapping.people import EmailData, PersonData
from flask_pco.sync.matching import PersonMatcher


def pco_person(
    pco_id, first="Pat", last="Doe", *, dob=None, remote_id=None, emails=(), other_names=()
):
    return PersonData(
        pco_id,
        first,
        last,
        None,
        dob,
        False,
        True,
        None,
        remote_id,
        tuple(EmailData(e, True) for e in emails),
        other_names=other_names,
    )


@pytest.fixture
def matcher(state, models):
    return PersonMatcher(models.db.session, state.roles)


@pytest.fixture
def queries(models):
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(models.db.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(models.db.engine, "before_cursor_execute", listener)


def test_a_page_of_linked_people_costs_one_query(matcher, local_person, queries):
    for n in range(20):
        local_person(f"P{n}", "Linked", pco_id=str(n))
    queries.clear()
    matcher.load([pco_person(str(n)) for n in range(20)])
    assert len(queries) == 1
    assert all(matcher.match(pco_person(str(n))).tier == "pco_id" for n in range(20))


def test_a_page_of_unknown_people_costs_at_most_five_queries(matcher, local_person, queries):
    for n in range(20):
        local_person(f"P{n}", "Unlinked", dob=date(2000, 1, 1 + n), emails=(f"p{n}@example.org",))
    people = [
        pco_person(
            str(100 + n),
            f"Q{n}",
            "New",
            dob=date(1999, 1, 1),
            remote_id=999 + n,
            emails=(f"q{n}@example.org",),
        )
        for n in range(20)
    ]
    queries.clear()
    matcher.load(people)
    assert len(queries) <= 5
    assert all(matcher.match(p).tier == "new" for p in people)


def test_tiers_are_tried_strongest_first(matcher, local_person):
    by_remote = local_person("Remote", "Row")
    by_email = local_person("Email", "Row", emails=("e@example.org",))
    by_name = local_person("Name", "Row", dob=date(1980, 2, 2))
    people = [
        pco_person("1", remote_id=by_remote.id, emails=("e@example.org",)),
        pco_person("2", "email", "Whoever", emails=("E@EXAMPLE.ORG",)),
        pco_person("3", "name", "row", dob=date(1980, 2, 2)),
    ]
    matcher.load(people)
    assert [(m.tier, m.row) for m in map(matcher.match, people)] == [
        ("remote_id", by_remote),
        ("email", by_email),
        ("name_dob", by_name),
    ]


def test_a_remote_id_pointing_at_a_person_linked_elsewhere_falls_through(matcher, local_person):
    linked = local_person("Linked", "Else", pco_id="77")
    person = pco_person("1", remote_id=linked.id)
    matcher.load([person])
    assert matcher.match(person).tier == "new"


def test_ambiguity_names_the_candidates(matcher, local_person):
    a = local_person("Pat", "A", emails=("x@example.org",))
    b = local_person("Pat", "B", emails=("X@example.org",))
    person = pco_person("1", emails=("x@example.org",))
    matcher.load([person])
    match = matcher.match(person)
    assert (match.held, match.row, match.candidates) == (True, None, tuple(sorted([a.id, b.id])))


def test_a_shared_family_email_does_not_make_one_member_another(matcher, local_person):
    local_person("Bob", "Smith", emails=("smiths@example.org",))
    alice = pco_person("1", "Alice", "Smith", emails=("smiths@example.org",))
    matcher.load([alice])
    assert matcher.match(alice).tier == "new"


def test_a_nickname_pco_knows_matches_by_email(matcher, local_person):
    bob = local_person("Bob", "Smith", emails=("bob@example.org",))
    robert = pco_person("1", "Robert", "Smith", emails=("bob@example.org",), other_names=("Bob",))
    matcher.load([robert])
    assert (matcher.match(robert).tier, matcher.match(robert).row) == ("email", bob)


def test_the_last_name_tells_apart_two_people_sharing_an_email_and_a_first_name(
    matcher, local_person
):
    local_person("Sam", "Jones", emails=("family@example.org",))
    sam_lee = local_person("Sam", "Lee", emails=("family@example.org",))
    person = pco_person("1", "Sam", "Lee", emails=("family@example.org",))
    matcher.load([person])
    assert (matcher.match(person).tier, matcher.match(person).row) == ("email", sam_lee)
