"""A stop signal never unwinds the nightly scheduler through a database or Redis call."""

from __future__ import annotations

import signal

import pytest
from flask import Flask
from rq.exceptions import StopRequested

from flask_pco.jobs.queue import set_schedule, sync_queue
from flask_pco.jobs.workers import NightlyScheduler


class SignalledMidCheck(NightlyScheduler):
    """Receives SIGTERM while it reads the admin's setting from the database."""

    def refresh(self):  # type: ignore[no-untyped-def]
        self._request_stop(signal.SIGTERM, None)
        self.refreshed_after_signal = True
        return super().refresh()


def test_a_signal_during_the_check_stops_the_scheduler_after_the_check(redis_app: Flask) -> None:
    set_schedule(True, 3)
    queue = sync_queue()
    scheduler = SignalledMidCheck(queue.connection, queue.name)
    with pytest.raises(StopRequested):
        scheduler.enqueue_jobs()
    assert scheduler.refreshed_after_signal
    assert scheduler.nightly_job() is not None


def test_a_signal_while_sleeping_stops_the_scheduler_at_once(redis_app: Flask) -> None:
    queue = sync_queue()
    scheduler = NightlyScheduler(queue.connection, queue.name)
    with pytest.raises(StopRequested):
        scheduler._request_stop(signal.SIGTERM, None)
