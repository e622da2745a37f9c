"""A push sends ``person_pushed``, ``family_changed`` and ``membership_changed`` once per record
after the commit that stores PCO's answer; a dry run sends nothing."""

from __future__ import annotations

from flask_pco import family_changed, membership_changed, person_pulled, person_pushed

from .conftest import add_family, add_membership, add_person, records, run_push


def test_a_person_created_in_pco_sends_person_pushed_once(db, sandbox, hear, app):
    person = add_person(db)
    pushed, pulled = hear(person_pushed), hear(person_pulled)
    report = run_push("people")
    [created] = records(sandbox, "Person")
    [call] = pushed.calls
    assert (call["sender"], call["local_id"], call["pco_id"], call["run_id"]) == (
        app,
        person.id,
        created["id"],
        report.run_id,
    )
    assert (call["created"], call["actions"], call["side"]) == (True, ("create", "link"), "both")
    assert call["changes"]["pco_id"] == (None, created["id"])
    assert pulled.calls == []  # linking the row is part of the push, not a pull


def test_a_local_edit_pushed_sends_the_field_with_pco_s_old_value(db, sandbox, hear):
    person = add_person(db, last_name="Garcia")
    run_push("people")
    person.last_name = "García"
    db.session.commit()
    pushed = hear(person_pushed)
    run_push("people")
    [call] = pushed.calls
    assert (call["changes"], call["created"], call["side"]) == (
        {"last_name": ("Garcia", "García")},
        False,
        "pco",
    )


def test_a_family_pushed_sends_family_changed_for_the_household(db, sandbox, hear):
    dana = add_person(db)
    run_push("people")
    family = add_family(db, "Newcomer", (dana, "adult"))
    changed = hear(family_changed)
    run_push("families")
    [household] = records(sandbox, "Household")
    families = [c for c in changed.calls if c["record_type"] == "family"]
    assert [(c["local_id"], c["pco_id"], c["created"]) for c in families] == [
        (family.id, household["id"], True)
    ]


def test_a_membership_pushed_sends_membership_changed(db, sandbox, pco_group, hear):
    dana = add_person(db)
    run_push("people")
    membership = add_membership(db, pco_group, dana, is_leader=True)
    changed = hear(membership_changed)
    run_push("group-memberships")
    [call] = changed.calls
    assert (call["record_type"], call["local_id"], call["side"]) == (
        "group_membership",
        membership.id,
        "both",
    )


def test_a_dry_run_push_sends_nothing(db, sandbox, hear):
    dana = add_person(db)
    add_family(db, "Newcomer", (dana, "adult"))
    heard = [hear(signal) for signal in (person_pushed, person_pulled, family_changed)]
    run_push("full", dry_run=True)
    assert records(sandbox, "Person") == []
    assert [h.calls for h in heard] == [[], [], []]
