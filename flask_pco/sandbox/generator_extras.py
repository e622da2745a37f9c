"""Generated data beyond People: groups, lists, check-ins and calendar (read-only apps)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from flask_pco.sandbox.store import Store, insert_many, utc_stamp

GROUP_TYPES = ("Small Groups", "Serving Teams", "Classes")
GROUP_WORDS = ("Tuesday Study", "Young Adults", "Men's Breakfast", "Women's Bible Study",
               "Worship Team", "Greeters", "Alpha Course", "Newcomers", "Café Crew")  # fmt: skip
LISTS = ("Texting list", "Volunteers", "Members with email", "Parents of kids")
CALENDAR_EVENTS = (
    "Sunday Gathering",
    "Youth Night",
    "Prayer Meeting",
    "Choir Rehearsal",
    "Potluck",
)


def _stamp(now: datetime, days_ago: float) -> str:
    return utc_stamp(now - timedelta(days=days_ago))


def _groups(store: Store, rng: random.Random, now: datetime, people: list[str]) -> None:
    type_ids = insert_many(
        store,
        "GroupType",
        (
            {"name": name, "position": n, "created_at": _stamp(now, 900)}
            for n, name in enumerate(GROUP_TYPES)
        ),
    )
    for n in range(max(2, len(people) // 25)):
        name = f"{GROUP_WORDS[n % len(GROUP_WORDS)]}{'' if n < len(GROUP_WORDS) else f' {n}'}"
        group = {"name": name, "group_type_id": rng.choice(type_ids), "schedule": "Tuesdays at 7pm",
                 "description": f"<p>{name}</p>", "description_as_plain_text": name,
                 "created_at": _stamp(now, rng.uniform(30, 900))}  # fmt: skip
        group_id = store.insert("Group", group, emit=False)["id"]
        members = rng.sample(people, min(len(people), rng.randint(2, 12)))
        insert_many(store, "Membership", (
            {"group_id": group_id, "person_id": pid, "role": "leader" if i == 0 else "member",
             "joined_at": _stamp(now, rng.uniform(1, 700))}
            for i, pid in enumerate(members)
        ))  # fmt: skip


def _lists(store: Store, rng: random.Random, now: datetime, people: list[str]) -> None:
    for name in LISTS:
        list_id = store.insert("List", {"name": name, "description": name, "auto_refresh": True,
                                        "status": "complete", "returns": "all", "subset": "all",
                                        "refreshed_at": _stamp(now, 1)}, emit=False)["id"]  # fmt: skip
        members = rng.sample(people, min(len(people), rng.randint(0, 30)))
        insert_many(
            store, "ListResult", ({"list_id": list_id, "person_id": pid} for pid in members)
        )


def _check_ins(store: Store, rng: random.Random, now: datetime, people: list[str]) -> None:
    for event_name in ("Sunday Kids", "Wednesday Youth"):
        event = {"name": event_name, "frequency": "Weekly", "created_at": _stamp(now, 800)}
        event_id = store.insert("CheckInEvent", event, emit=False)["id"]
        folder = store.insert(
            "Location", {"name": "Kids", "kind": "Folder", "event_id": event_id}, emit=False
        )
        rooms = insert_many(store, "Location", (
            {"name": f"Grades {g}-{g + 1}", "event_id": event_id, "parent_id": folder["id"],
             "grade_min": g, "grade_max": g + 1, "child_or_adult": "child", "position": g,
             "max_occupancy": 24, "min_volunteers": 2, "attendees_per_volunteer": 8}
            for g in (0, 2, 4)
        ))  # fmt: skip
        insert_many(
            store,
            "Station",
            ({"name": f"{event_name} Kiosk {n}", "event_id": event_id} for n in (1, 2)),
        )
        periods = _sessions(store, rng, now, event_id)
        for pid in rng.sample(people, min(len(people), max(1, len(people) // 10))):
            _check_in(store, rng, now, (event_id, rng.choice(periods)), rng.choice(rooms), pid)
    insert_many(store, "Label", ({"name": n, "prints_for": p, "roll": "standard", "xml": "<label/>"}
                                 for n, p in (("Name Tag", "Person"), ("Security", "Group"))))  # fmt: skip


def _sessions(store: Store, rng: random.Random, now: datetime, event_id: str) -> list[str]:
    """Three past weekly sessions (EventPeriod + EventTime), each with a headcount."""
    kind = {"name": "Adults in Worship", "color": "#4fd2e3", "event_id": event_id}
    attendance_type = store.insert("AttendanceType", kind, emit=False)["id"]
    periods = []
    for week in range(1, 4):
        starts = utc_stamp((now - timedelta(weeks=week)).replace(hour=15, minute=0, second=0))
        period = {"event_id": event_id, "starts_at": starts, "ends_at": starts}
        periods.append(store.insert("EventPeriod", period, emit=False)["id"])
        time = {"event_id": event_id, "starts_at": starts, "name": "9:00 Service"}
        time_id = store.insert("EventTime", {**time, "event_period_id": periods[-1]}, emit=False)[
            "id"
        ]
        headcount = {"total": rng.randint(40, 250), "event_time_id": time_id,
                     "attendance_type_id": attendance_type, "created_at": starts}  # fmt: skip
        store.insert("Headcount", headcount, emit=False)
    return periods


def _check_in(
    store: Store,
    rng: random.Random,
    now: datetime,
    session: tuple[str, str],
    room: str,
    pid: str,
) -> None:
    event_id, period_id = session
    person: dict[str, Any] = store.tables["Person"][pid]
    created = now - timedelta(days=rng.randint(0, 8) * 7, hours=rng.uniform(0, 3))
    check_in = {"first_name": person["first_name"], "last_name": person["last_name"],
                "kind": rng.choice(("Regular", "Guest", "Volunteer")), "number": rng.randint(1, 99),
                "security_code": "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=4)),
                "person_id": pid, "event_id": event_id, "event_period_id": period_id,
                "created_at": utc_stamp(created),
                "checked_out_at": utc_stamp(created + timedelta(hours=2))}  # fmt: skip
    check_in_id = store.insert("CheckIn", check_in, emit=False)["id"]
    store.insert("CheckInLocation", {"check_in_id": check_in_id, "location_id": room}, emit=False)


def _calendar(store: Store, rng: random.Random, now: datetime, people: list[str]) -> None:
    start = (now - timedelta(weeks=8)).replace(hour=15, minute=0, second=0, microsecond=0)
    for n, name in enumerate(CALENDAR_EVENTS):
        event = {"name": name, "summary": f"{name} for everyone", "description": f"<div>{name}</div>",
                 "owner_id": rng.choice(people) if people else None, "created_at": _stamp(now, 400)}  # fmt: skip
        event_id = store.insert("CalendarEvent", event, emit=False)["id"]
        first = start + timedelta(days=n)
        insert_many(store, "EventInstance", (
            {"event_id": event_id, "name": name, "location": "Main Hall", "recurrence": "Weekly",
             "recurrence_description": "Every week", "compact_recurrence_description": "Weekly",
             "starts_at": utc_stamp(first + timedelta(weeks=w)),
             "ends_at": utc_stamp(first + timedelta(weeks=w, hours=2)), "created_at": _stamp(now, 400)}
            for w in range(16)
        ))  # fmt: skip


def generate_field_data(store: Store, seed: int, people: list[str]) -> None:
    """Values for the standard custom fields, from their own random stream so the rest of the
    generated data stays what it was before custom fields existed."""
    rng = random.Random(f"custom fields {seed}")
    definitions = list(store.table("FieldDefinition").values())
    options = {
        d["id"]: {store.tables["FieldOption"][o]["value"]: o
                  for o in store.lookup("FieldOption", "field_definition_id", d["id"])}
        for d in definitions
    }  # fmt: skip
    rows = []
    for person_id in people:
        for definition in definitions:
            if rng.random() < 0.6:
                for value in _field_values(
                    rng, definition["data_type"], list(options[definition["id"]])
                ):
                    option = options[definition["id"]].get(value)
                    rows.append({"field_definition_id": definition["id"], "value": value,
                                 "field_option_id": option, "person_id": person_id})  # fmt: skip
    insert_many(store, "FieldDatum", rows)


def _field_values(rng: random.Random, data_type: str, choices: list[str]) -> list[str]:
    if data_type == "checkboxes":
        return rng.sample(choices, rng.randint(1, 2))
    if data_type == "select":
        return [rng.choice(choices)]
    if data_type == "date":
        return [f"{rng.randint(1970, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]
    if data_type == "number":
        return [str(rng.randint(0, 30))]
    if data_type == "boolean":
        return [rng.choice(("true", "false"))]
    return [rng.choice(("Peanuts", "Gluten", "None known", "Bee stings"))]


def generate_activity(store: Store, rng: random.Random, now: datetime, people: list[str]) -> None:
    """Everything that hangs off people; sized in proportion to the number of people."""
    _groups(store, rng, now, people)
    _lists(store, rng, now, people)
    _check_ins(store, rng, now, people)
    _calendar(store, rng, now, people)
