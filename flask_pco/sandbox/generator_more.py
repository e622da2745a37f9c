"""Generated campuses, the optional person attributes and second addresses.

Drawn from a random stream of their own (seeded from the main one's seed), so adding them left
every other generated value as it was: tests written against earlier data still find it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from flask_pco.sandbox.store import Store, insert_many, utc_stamp

CAMPUSES = (
    ("Downtown", "America/Chicago", "Springfield", "IL"),
    ("Westside", "America/Los_Angeles", "Portland", "OR"),
)
MIDDLE_NAMES = ("Ann", "Lee", "Marie", "James", "Grace", "Ray", "Jo")
AVATARS = "https://avatars.planningcenteronline.com/uploads/initials/{}.png"


class MoreMaker:
    """Campuses, and each person's optional attributes (one instance per generation run)."""

    def __init__(self, store: Store, seed: int, now: datetime) -> None:
        self.store, self.now = store, now
        self.rng = random.Random(f"more-{seed}")
        self.campuses = insert_many(
            store,
            "Campus",
            (
                {"name": name, "time_zone": zone, "city": city, "state": state,
                 "created_at": utc_stamp(now - timedelta(days=1500))}
                for name, zone, city, state in CAMPUSES
            ),
        )  # fmt: skip

    def person_fields(self, first_name: str, last_name: str, child: bool) -> dict[str, Any]:
        """Campus, middle name, nickname, avatar, and the dates PCO keeps for adults or children."""
        rng = self.rng
        fields: dict[str, Any] = {
            "primary_campus_id": rng.choice((*self.campuses, None)),
            "middle_name": rng.choice(MIDDLE_NAMES) if rng.random() < 0.4 else None,
            "nickname": first_name[:3] if rng.random() < 0.15 and len(first_name) > 4 else None,
            "avatar": AVATARS.format(f"{first_name[:1]}{last_name[:1]}".upper()),
        }
        if child:
            fields["graduation_year"] = self.now.year + rng.randint(0, 12)
        elif rng.random() < 0.4:
            married = self.now.date() - timedelta(days=rng.randint(365, 365 * 40))
            fields["anniversary"] = married.isoformat()
        return fields

    def second_address(self, person_id: str, stamps: dict[str, str]) -> None:
        """A work address beside the home one, for about one adult in ten."""
        if self.rng.random() >= 0.1:
            return
        record = {
            "street_line_1": f"{self.rng.randrange(1, 500)} Commerce Way",
            "street_line_2": None,
            "city": "Springfield",
            "state": "IL",
            "zip": "62702",
            "country_code": "US",
            "location": "Work",
            "primary": False,
            "person_id": person_id,
            **stamps,
        }
        self.store.insert("Address", record, emit=False)
