"""The nightly sync: setting stored in the database, RQ cron entry on the church's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from flask_pco.exceptions import ConfigError
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import get_schedule, recent_runs, set_schedule, sync_queue
from flask_pco.jobs.schedule import NIGHTLY_JOB_NAME, QUIET_NOTE, next_nightly_run
from flask_pco.jobs.workers import HOUSEKEEPING_JOB_NAME, NightlyScheduler
from tests.conftest import make_app

from .conftest import NOWHERE

NEW_YORK = "America/New_York"


@pytest.fixture
def church_app(database_url: str, redis_url: str) -> Iterator[Flask]:
    application = make_app(
        database_url, PCO_REDIS_URL=redis_url, PCO_TIME_ZONE=NEW_YORK, PCO_API_URL=NOWHERE
    )
    with application.app_context():
        yield application


@pytest.fixture
def scheduler(church_app: Flask) -> NightlyScheduler:
    queue = sync_queue()
    return NightlyScheduler(queue.connection, queue.name)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_schedule_is_off_at_two_in_the_church_time_zone_until_set(church_app: Flask) -> None:
    schedule = get_schedule()
    assert (schedule.enabled, schedule.hour, schedule.time_zone) == (False, 2, NEW_YORK)


def test_set_schedule_is_stored_in_the_settings_table(church_app: Flask) -> None:
    set_schedule(True, 4)
    state = current_pco()
    state.db.session.expunge_all()
    assert state.db.session.get(state.models.Setting, "nightly_sync").value == {
        "enabled": True,
        "hour": 4,
    }
    assert get_schedule().hour == 4 and get_schedule().enabled


def test_set_schedule_keeps_what_is_not_given(church_app: Flask) -> None:
    set_schedule(True, 5)
    assert set_schedule(enabled=False) == get_schedule()
    assert (get_schedule().enabled, get_schedule().hour) == (False, 5)


@pytest.mark.parametrize("hour", [24, -1, "3", True])
def test_bad_hour_is_refused_and_changes_nothing(church_app: Flask, hour: Any) -> None:
    set_schedule(True, 3)
    with pytest.raises(ConfigError, match="0 to 23"):
        set_schedule(True, hour)
    assert get_schedule().hour == 3


def test_schedule_carries_the_quiet_hours_warning(church_app: Flask) -> None:
    assert "automations" in get_schedule().quiet_note
    assert get_schedule().quiet_note == QUIET_NOTE


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 1, 10, 12), utc(2026, 1, 11, 7)),  # EST: 02:00 is 07:00 UTC
        (utc(2026, 7, 10, 12), utc(2026, 7, 11, 6)),  # EDT: 02:00 is 06:00 UTC
        (utc(2026, 1, 10, 6, 59), utc(2026, 1, 10, 7)),  # later the same night
        (utc(2026, 3, 7, 12), utc(2026, 3, 8, 7)),  # 02:00 does not exist: runs at 03:00 EDT
        (utc(2026, 10, 31, 12), utc(2026, 11, 1, 7)),  # fall back: 02:00 EST, once
    ],
)
def test_next_nightly_run_follows_the_church_clock_across_dst(
    after: datetime, expected: datetime
) -> None:
    assert next_nightly_run(2, NEW_YORK, after) == expected


def test_fall_back_night_runs_a_repeated_hour_once_the_first_time() -> None:
    first = next_nightly_run(1, NEW_YORK, utc(2026, 10, 31, 12))
    assert first == utc(2026, 11, 1, 5)  # 01:00 EDT
    assert next_nightly_run(1, NEW_YORK, first) == utc(2026, 11, 2, 6)  # next night, EST


def test_scheduler_registers_the_nightly_cron_at_the_set_hour_and_zone(
    scheduler: NightlyScheduler,
) -> None:
    set_schedule(True, 3)
    job = scheduler.refresh()
    assert job.func_name == "flask_pco.jobs.queue.nightly_sync_job"
    assert job.cron == "0 3 * * *"
    assert job.queue_name == current_pco().config.queue
    now = datetime.now(UTC)
    assert job.next_enqueue_time == next_nightly_run(3, NEW_YORK, now)
    assert job.next_enqueue_time.astimezone(ZoneInfoNY()).hour == 3


def ZoneInfoNY() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(NEW_YORK)


def test_scheduler_has_no_nightly_entry_while_the_nightly_sync_is_off(
    scheduler: NightlyScheduler,
) -> None:
    assert scheduler.refresh() is None
    assert nightly_entries(scheduler) == []


def nightly_entries(scheduler: NightlyScheduler) -> list[str]:
    return [job.cron for job in scheduler.get_jobs() if job.name == NIGHTLY_JOB_NAME]


def test_scheduler_runs_webhook_housekeeping_every_hour(scheduler: NightlyScheduler) -> None:
    (entry,) = [job for job in scheduler.get_jobs() if job.name == HOUSEKEEPING_JOB_NAME]
    assert entry.func_name == "flask_pco.jobs.queue.webhook_housekeeping_job"
    assert entry.cron == "17 * * * *"


def test_housekeeping_job_runs_in_a_worker(scheduler: NightlyScheduler, work: Any) -> None:
    (entry,) = [job for job in scheduler.get_jobs() if job.name == HOUSEKEEPING_JOB_NAME]
    job = entry.enqueue(sync_queue().connection)
    work()
    assert job.latest_result().return_value == "0 deliveries applied again"


def test_scheduler_follows_a_changed_setting(scheduler: NightlyScheduler) -> None:
    set_schedule(True, 1)
    scheduler.refresh()
    set_schedule(True, 4)
    scheduler.refresh()
    assert nightly_entries(scheduler) == ["0 4 * * *"]
    set_schedule(False)
    scheduler.refresh()
    assert nightly_entries(scheduler) == []


def test_due_nightly_entry_starts_an_incremental_full_pull(
    scheduler: NightlyScheduler, test_steps: None, work: Any
) -> None:
    set_schedule(True, 2)
    job = scheduler.refresh()
    job.next_enqueue_time = datetime.now(UTC) - timedelta(seconds=1)  # the hour has come
    assert job in scheduler.enqueue_jobs()
    assert job.next_enqueue_time > datetime.now(UTC)  # and the next one is tomorrow night
    work()
    (run,) = recent_runs()
    assert (run.direction, run.sync_type, run.trigger) == ("pull", "full", "nightly")
    assert run.incremental and run.status == "succeeded"


def test_nightly_job_does_nothing_once_switched_off(
    scheduler: NightlyScheduler, test_steps: None, work: Any
) -> None:
    set_schedule(True, 2)
    job = scheduler.refresh()
    job.enqueue(sync_queue().connection)
    set_schedule(False)
    work()
    assert recent_runs() == []
