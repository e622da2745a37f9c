"""A full people pull after the first reads in full only who changed: the people changed since
the last pull (with their includes), then every person's version (``fields[Person]=created_at,updated_at``)
to learn who PCO still has and to catch any change the first listing missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import event, func, select

from tests.sync.conftest import PER_PAGE

OVERLAP = 300  # PCO_INCREMENTAL_OVERLAP's default


def people_reads(sandbox: Any) -> list[str]:
    """The people reads the last run made, query strings decoded."""
    paths = [unquote(r["path"]) for r in sandbox.requests() if r["method"] == "GET"]
    return [p for p in paths if p.startswith("/people/v2/people")]


def person(models: Any, pco_id: str) -> Any:
    models.db.session.expire_all()
    return models.db.session.scalar(select(models.Person).where(models.Person.pco_id == pco_id))


def edit_in_the_past(sandbox: Any, pco_id: str) -> None:
    """A change stamped before the last pull started, less the overlap (a PCO clock behind
    ours): no listing of what changed since that pull shows it."""
    past = datetime.now(UTC) - timedelta(seconds=OVERLAP + 60)
    sandbox.set_clock(past.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        sandbox.edit_person(pco_id, last_name="Missed")
    finally:
        sandbox.set_clock(None)


def first_ids(models: Any, count: int) -> list[str]:
    ids = models.db.session.scalars(select(models.Person.pco_id).order_by(models.Person.id))
    return list(ids)[:count]


def test_an_unchanged_full_pull_reads_only_versions_after_one_empty_listing(
    sandbox, run_sync, models
):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    sandbox.clear_requests()

    again = run_sync("pull", "people")

    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0)
    reads = people_reads(sandbox)
    changed = [p for p in reads if "where[updated_at][gte]" in p]
    versions = [p for p in reads if "fields[Person]=created_at,updated_at" in p]
    assert len(changed) == 1 and "include=" in changed[0]
    assert len(versions) == -(-30 // PER_PAGE)
    assert all("include=" not in p for p in versions)
    assert len(reads) == len(changed) + len(versions)


def test_the_versions_listing_restarts_before_pcos_throttled_deep_offsets(
    sandbox, run_sync, models, monkeypatch
):
    # PCO throttles offsets past 30,000 (REFERENCE §3); the versions listing carries its
    # order's key (created_at), so the paginator can restart it from there instead.
    monkeypatch.setattr("flask_pco.client.paging.DEEP_OFFSET", 25)
    sandbox.reset(people=60, seed=3)
    run_sync("pull", "people")
    sandbox.clear_requests()

    again = run_sync("pull", "people")

    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0)
    versions = [p for p in people_reads(sandbox) if "fields[Person]=" in p]
    offsets = [int(p.split("offset=")[1].split("&")[0]) for p in versions if "offset=" in p]
    assert max(offsets) <= 25
    assert any("where[created_at][gte]" in p for p in versions)
    assert models.db.session.scalar(select(func.count()).select_from(models.Person)) == 60


def test_a_person_changed_in_pco_is_applied_by_the_changed_listing(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    pco_id = first_ids(models, 1)[0]
    sandbox.edit_person(pco_id, last_name="Changed")
    sandbox.clear_requests()

    again = run_sync("pull", "people")

    assert again.updated == 1 and person(models, pco_id).last_name == "Changed"
    assert not [p for p in people_reads(sandbox) if p.startswith(f"/people/v2/people/{pco_id}")]


def test_a_change_the_first_listing_missed_is_read_with_one_get(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    pco_id = first_ids(models, 1)[0]
    edit_in_the_past(sandbox, pco_id)
    sandbox.clear_requests()

    run_sync("pull", "people")

    assert person(models, pco_id).last_name == "Missed"
    singles = [p for p in people_reads(sandbox) if p.startswith(f"/people/v2/people/{pco_id}?")]
    assert len(singles) == 1 and "include=" in singles[0]


def test_several_misses_on_one_page_read_that_page_again_once(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    stale = first_ids(models, 3)
    for pco_id in stale:
        edit_in_the_past(sandbox, pco_id)
    sandbox.clear_requests()

    run_sync("pull", "people")

    assert [person(models, pco_id).last_name for pco_id in stale] == ["Missed"] * 3
    again = [p for p in people_reads(sandbox) if "offset=" in p and "include=" in p]
    assert len(again) == 1
    assert not [p for p in people_reads(sandbox) if p.startswith("/people/v2/people/")]


def test_the_version_listing_still_finds_who_pco_deleted(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    gone = first_ids(models, 1)[0]
    sandbox.delete_person(gone)
    run_sync("pull", "people")  # the first look that misses them
    run = run_sync("pull", "people")
    assert run.removed == 1 and person(models, gone).is_active is False


def test_a_first_full_pull_reads_everyone_with_includes_once(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    sandbox.clear_requests()
    run_sync("pull", "people")
    reads = people_reads(sandbox)
    assert not [p for p in reads if "fields[" in p]
    assert len(reads) == -(-30 // PER_PAGE) and all("include=" in p for p in reads)


def _snapshot_reads(models: Any, action: Any) -> int:
    """How many statements ``action`` sends that read people's snapshots with their versions."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(models.db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(models.db.engine, "before_cursor_execute", note)
    return sum("pco_snapshot" in s and "pco_synced_at" in s for s in seen)


def test_after_a_complete_pull_an_unchanged_one_reads_no_snapshot(sandbox, run_sync, models):
    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")  # settles the custom fields example_app maps
    assert _snapshot_reads(models, lambda: run_sync("pull", "people")) == 0


def test_after_an_undo_the_snapshots_are_checked_again(sandbox, run_sync, models, state):
    from flask_pco.jobs.undo import start_undo

    sandbox.reset(people=30, seed=3)
    run_sync("pull", "people")
    pco_id = first_ids(models, 1)[0]
    sandbox.edit_person(pco_id, last_name="Changed")
    start_undo(run_id=run_sync("pull", "people").id, trigger="cli", mode="inline")
    assert _snapshot_reads(models, lambda: run_sync("pull", "people")) > 0
