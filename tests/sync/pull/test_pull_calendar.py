"""pull events and locations: read-only PCO records mirrored locally."""

from __future__ import annotations

from sqlalchemy import select


def test_future_event_instances_become_events(sandbox, run_sync, models):
    sandbox.reset(people=5, seed=3)
    run = run_sync("pull", "events")
    events = models.db.session.scalars(select(models.Event)).all()
    assert run.status == "succeeded", run.error_message
    assert events and run.created == len(events)
    assert all(e.name and e.starts_at and e.pco_id for e in events)


def test_check_in_locations_become_locations(sandbox, run_sync, models):
    sandbox.reset(people=5, seed=3)
    expected = {loc["id"]: loc["name"] for loc in sandbox.state()["records"]["Location"]}
    run = run_sync("pull", "locations")
    assert run.created == len(expected)
    assert {
        loc.pco_id: loc.name for loc in models.db.session.scalars(select(models.Location))
    } == expected


def test_a_second_events_pull_changes_nothing(sandbox, run_sync):
    sandbox.reset(people=5, seed=3)
    run_sync("pull", "events")
    again = run_sync("pull", "events")
    assert (again.created, again.updated) == (0, 0)
