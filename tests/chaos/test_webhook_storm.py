"""Reduced webhook storm (bench/storm.py): forged rejected, duplicates harmless, latest wins."""

from __future__ import annotations

import pytest

from bench.storm import webhook_storm


@pytest.fixture(scope="module")
def storm():
    return webhook_storm(300, versions=3, concurrency=4, seed=5)


def test_every_forged_delivery_is_rejected_and_changes_nothing(storm) -> None:
    assert storm.forged >= 1
    assert storm.forged_rejected == storm.forged
    assert storm.forged_changes == 0


def test_every_signed_delivery_is_accepted_and_stored_once(storm) -> None:
    assert storm.other_statuses == {}
    assert storm.accepted == storm.deliveries - storm.forged
    assert storm.stored_events == storm.unique_events
    assert set(storm.stored_statuses) <= {"applied", "ignored"}


def test_each_person_ends_at_the_latest_version_whatever_the_order(storm) -> None:
    assert storm.people_at_latest == storm.people > 0
