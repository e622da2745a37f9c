"""The change journal: each write path leaves its entries, in the transaction of the change."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from flask_pco.sync.context import RunReporter, SyncContext
from flask_pco.sync.rows import set_fields
from tests.sync.conftest import sandbox_person


def entries(models: Any, **where: Any) -> list[Any]:
    Entry = models.db.Model.registry._class_registry["JournalEntry"]
    query = select(Entry).filter_by(**where).order_by(Entry.id)
    return list(models.db.session.scalars(query))


def test_a_first_pull_journals_one_create_per_person(sandbox, run_sync, models):
    sandbox.reset(people=12, seed=3)
    run = run_sync("pull", "people")
    created = entries(models, run_id=run.id, record_type="person", action="create")
    people = {p.pco_id: p for p in models.db.session.scalars(select(models.Person))}
    assert {(e.local_id, e.pco_id) for e in created} == {(p.id, k) for k, p in people.items()}
    sample = created[0]
    assert sample.side == "local"
    assert sample.new_value["last_name"] == people[sample.pco_id].last_name


def test_an_unchanged_second_pull_journals_nothing(sandbox, run_sync, models):
    sandbox.reset(people=12, seed=3)
    run_sync("pull", "people")
    again = run_sync("pull", "people")
    assert entries(models, run_id=again.id) == []


def test_a_rename_in_pco_journals_the_field_with_old_and_new(sandbox, run_sync, models):
    pco_id = sandbox_person(sandbox, "Maria", "Garcia")
    run_sync("pull", "people")
    sandbox.edit_person(pco_id, last_name="García")
    run = run_sync("pull", "people")
    [entry] = entries(models, run_id=run.id)
    person = models.db.session.scalar(select(models.Person).filter_by(pco_id=pco_id))
    assert (entry.action, entry.record_type, entry.local_id, entry.pco_id) == (
        "update",
        "person",
        person.id,
        pco_id,
    )
    assert (entry.field, entry.old_value, entry.new_value) == ("last_name", "Garcia", "García")


def test_linking_a_local_person_journals_the_link(sandbox, run_sync, models, local_person):
    mine = local_person("Ana", "Ruiz", emails=("ana@example.org",))
    pco_id = sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"])
    run = run_sync("pull", "people")
    links = entries(models, run_id=run.id, action="link", record_type="person")
    assert [(e.local_id, e.old_value, e.new_value) for e in links] == [(mine.id, None, pco_id)]


def test_linking_a_local_email_to_pco_s_journals_that_link_too(
    sandbox, run_sync, models, local_person
):
    local_person("Ana", "Ruiz", emails=("ana@example.org",))
    sandbox_person(sandbox, "Ana", "Ruiz", emails=["ana@example.org"])
    run = run_sync("pull", "people")
    [link] = entries(models, run_id=run.id, action="link", record_type="email")
    email = models.db.session.scalar(select(models.PersonEmail))
    assert (link.local_id, link.old_value, link.new_value) == (email.id, None, email.pco_id)


def _context(state: Any) -> SyncContext:
    run = SimpleNamespace(id=None, parent_id=None, current_step="test")
    return SyncContext(state, None, RunReporter(state, run))  # type: ignore[arg-type]


def test_a_change_rolled_back_leaves_no_entry(state, models, local_person):
    mine = local_person("Ana", "Ruiz")
    set_fields(mine, "person", {"last_name": "Ruiz-Gómez"}, _context(state))
    models.db.session.rollback()
    models.db.session.commit()
    assert entries(models) == []


def test_a_change_committed_is_journaled_with_it(state, models, local_person):
    mine = local_person("Ana", "Ruiz")
    set_fields(mine, "person", {"last_name": "Ruiz-Gómez"}, _context(state))
    models.db.session.commit()
    [entry] = entries(models)
    assert (entry.local_id, entry.old_value, entry.new_value) == (mine.id, "Ruiz", "Ruiz-Gómez")


def test_a_removal_journals_the_deactivation_with_the_run(sandbox, run_sync, models):
    sandbox.reset(people=40, seed=7)
    run_sync("pull", "people")
    gone = models.db.session.scalar(select(models.Person).order_by(models.Person.id))
    sandbox.delete_person(gone.pco_id)
    run_sync("pull", "people")
    run = run_sync("pull", "people")  # the second look makes the removal
    [entry] = entries(models, run_id=run.id)
    assert (entry.action, entry.local_id, entry.field, entry.new_value) == (
        "deactivate",
        gone.id,
        "is_active",
        False,
    )


def test_a_refused_record_leaves_entries_for_the_others_only(sandbox, run_sync, models):
    sandbox.reset(people=20, seed=3)
    household_ids = [h["id"] for h in sandbox.state()["records"]["Household"]]
    sandbox.edit_household(household_ids[0], name="H" * 250)  # families.name holds 200
    run_sync("pull", "people")
    run = run_sync("pull", "families")
    families = {f.pco_id for f in models.db.session.scalars(select(models.Family))}
    journaled = {e.pco_id for e in entries(models, run_id=run.id, record_type="family")}
    assert journaled == families  # PostgreSQL refused the long name: no family, no entry


def _entry_at(state: Any, days_ago: int) -> None:
    from datetime import timedelta

    from flask_pco.models import utcnow

    state.db.session.add(
        state.models.JournalEntry(
            side="local",
            record_type="person",
            action="update",
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )
    state.db.session.commit()


def test_pruning_deletes_entries_older_than_the_journal_days_only(state, models):
    from flask_pco.models import utcnow
    from flask_pco.sync.journal import prune_journal

    _entry_at(state, 91)
    _entry_at(state, 89)
    assert prune_journal(state) == 1
    [kept] = entries(models)
    assert (utcnow() - kept.created_at).days == 89


def _people_state(state: Any) -> dict[int, dict[str, Any]]:
    from flask_pco.sync.policy import local_values

    Person = state.roles.model("person")
    rows = state.db.session.scalars(select(Person))
    return {row.id: local_values(row, "person", state.roles) for row in rows}


def _replay(before: dict[int, dict[str, Any]], journal: list[Any]) -> dict[int, dict[str, Any]]:
    """The people fields after applying a run's entries, in order, to ``before``."""
    after = {person_id: dict(fields) for person_id, fields in before.items()}
    for entry in journal:
        if entry.record_type != "person" or entry.side != "local":
            continue
        if entry.action == "create":
            after[entry.local_id] = {}
            after[entry.local_id].update(entry.new_value)
        elif entry.field is not None:
            after[entry.local_id][entry.field] = entry.new_value
    return after


def _owned(people: dict[int, dict[str, Any]], fields: dict[str, Any]) -> dict[int, Any]:
    return {i: {f: v.get(f) for f in fields} for i, v in people.items()}


def test_replaying_a_run_s_entries_on_the_earlier_state_gives_the_later(
    sandbox, run_sync, models, state
):
    sandbox.reset(people=15, seed=5)
    first = run_sync("pull", "people")
    pulled = _people_state(state)
    fields = next(iter(pulled.values()))
    assert _owned(_replay({}, entries(models, run_id=first.id)), fields) == _owned(pulled, fields)
    pco_ids = sorted(p.pco_id for p in models.db.session.scalars(select(models.Person)))
    sandbox.edit_person(pco_ids[0], last_name="García", first_name="María")
    sandbox.edit_person(pco_ids[1], birthdate="1971-02-03", gender="F")
    sandbox.edit_person(pco_ids[2], child=True)
    sandbox_person(sandbox, "New", "Comer", birthdate="2001-01-01")
    second = run_sync("pull", "people")
    replayed = _replay(pulled, entries(models, run_id=second.id))
    assert _owned(replayed, fields) == _owned(_people_state(state), fields)
    assert replayed != pulled


def test_a_field_that_holds_a_secret_is_journaled_as_changed_not_by_value(state, models):
    from flask_pco.sync.journal import REDACTED, record

    ctx = _context(state)
    record(ctx, "person", "update", local_id=1, name="api_token", old="s3cret", new="n3w")
    models.db.session.commit()
    [entry] = entries(models)
    assert (entry.field, entry.old_value, entry.new_value) == ("api_token", REDACTED, REDACTED)
