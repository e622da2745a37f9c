"""How a transaction's journal entries become announcements: one per signal and record."""

from __future__ import annotations

from typing import Any

from flask_pco import signals
from flask_pco.sync.announce import announcements


def entry(action: str, field: str | None = None, old: Any = None, new: Any = None, **over: Any):
    values = {"run_id": 7, "delivery_id": None, "record_type": "person", "side": "local"}
    values |= {"local_id": 3, "pco_id": "900", "action": action, "field": field}
    return values | {"old_value": old, "new_value": new} | over


def test_several_changes_of_one_record_are_one_announcement_from_first_old_to_last_new():
    [one] = announcements(
        [
            entry("update", "last_name", "Garcia", "García"),
            entry("update", "first_name", "Ana", "Anna"),
            entry("update", "last_name", "García", "Garcia-Ruiz"),
        ]
    )
    assert (one.signal, one.actions) == (signals.person_pulled, ["update"])
    assert one.changes == {"last_name": ("Garcia", "Garcia-Ruiz"), "first_name": ("Ana", "Anna")}


def test_a_create_spreads_its_values_into_fields():
    [one] = announcements([entry("create", new={"first_name": "Ana", "dob": "1990-05-17"})])
    assert one.changes == {"first_name": (None, "Ana"), "dob": (None, "1990-05-17")}


def test_an_admin_s_own_change_announces_nothing():
    assert announcements([entry("update", "last_name", "A", "B", run_id=None)]) == []


def test_records_no_signal_covers_announce_nothing():
    kinds = ("email", "phone", "group", "event", "location", "badges")
    assert announcements([entry("create", record_type=kind) for kind in kinds]) == []


def test_a_push_s_local_link_belongs_to_person_pushed():
    [one] = announcements(
        [entry("create", side="pco"), entry("link", old=None, new="900")],
    )
    assert (one.signal, one.actions, one.sides) == (
        signals.person_pushed,
        ["create", "link"],
        {"pco", "local"},
    )
    assert one.changes == {"pco_id": (None, "900")}


def test_a_pull_s_link_stays_with_person_pulled():
    [one] = announcements([entry("link", old=None, new="900")])
    assert one.signal is signals.person_pulled
