"""Deterministic, realistic church data of any size, from ``random.Random(seed)``.

Everything is relative to ``now`` so incremental syncs see a plausible past; pass a fixed ``now``
to get byte-identical data. The data includes the awkward cases matching logic must handle:
Unicode names, people without households, inactive people, and duplicate-looking pairs.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from flask_pco.sandbox.generator_extras import generate_activity, generate_field_data
from flask_pco.sandbox.generator_more import MoreMaker
from flask_pco.sandbox.mutations import phone_fields
from flask_pco.sandbox.store import Store, insert_many, utc_stamp

FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "José",
    "Zoë",
    "Chloé",
    "Renée",
    "Björn",
    "Søren",
    "Aoife",
    "Siobhán",
    "Łukasz",
    "Ana",
    "Mateo",
    "Sofía",
    "Nguyệt",
    "Minh",
    "Wei",
    "Hannah",
    "Noah",
    "Olivia",
    "Liam",
    "Emma",
    "Amara",
    "Kwame",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Nguyễn",
    "Müller",
    "O'Brien",
    "García",
    "Núñez",
    "Søndergaard",
    "Kowalski",
    "Okafor",
    "D'Angelo",
    "Van",
    "der",
    "Berg",
    "Øverby",
]
CITIES = (("Springfield", "IL", "62701"), ("Portland", "OR", "97201"), ("Austin", "TX", "78701"))
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Church Rd", "Elm St", "Cedar Ln")
AREA_CODES = ("312", "503", "512", "217", "555")
PHONE_FORMATS = (
    "({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "{a}{e}{l}", "1-{a}-{e}-{l}",
)  # fmt: skip
FOREIGN_NUMBERS = ("+44 20 7946 0958", "+49 30 901820", "+61 2 9876 5432")
MEMBERSHIPS = ("Member", "Member", "Regular Attender", "Visitor", None)


class PeopleMaker:
    """Builds people with their contact data; one instance per generation run."""

    def __init__(
        self, store: Store, rng: random.Random, now: datetime, more: MoreMaker | None = None
    ) -> None:
        self.store, self.rng, self.now = store, rng, now
        self.more = more

    def stamps(self, max_days: int = 2000) -> dict[str, str]:
        created = self.now - timedelta(days=self.rng.uniform(1, max_days))
        updated = created + (self.now - created) * self.rng.random()
        return {"created_at": utc_stamp(created), "updated_at": utc_stamp(updated)}

    def birthdate(self, child: bool, parent: bool = False) -> str:
        """Children are 0-17; parents are old enough to have had them (25-80)."""
        low, high = (0.5, 17) if child else (25, 80) if parent else (19, 85)
        years = self.rng.uniform(low, high)
        return (self.now.date() - timedelta(days=int(years * 365.25))).isoformat()

    def person(
        self, last_name: str, child: bool, parent: bool = False, **extra: Any
    ) -> dict[str, Any]:
        rng = self.rng
        inactive = rng.random() < 0.05
        person = {
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": last_name,
            "birthdate": self.birthdate(child, parent),
            "child": child,
            "gender": rng.choice(("Male", "Female", None)),
            "membership": rng.choice(MEMBERSHIPS),
            "status": "inactive" if inactive else "active",
            **self.stamps(),
            **extra,
        }
        if inactive:
            person["inactivated_at"] = person["updated_at"]
        if child:
            person["grade"] = max(0, min(12, _age(person["birthdate"], self.now.date()) - 5))
        if self.more is not None:
            more = self.more.person_fields(person["first_name"], last_name, child)
            person = {**more, **person}
        return self.store.insert("Person", person, emit=False)

    def contact_data(self, person: dict[str, Any], shared_email: str | None = None) -> None:
        rng, pid = self.rng, person["id"]
        emails = [self.email_address(person, n) for n in range(rng.choice((0, 1, 1, 1, 2, 3)))]
        if shared_email and (person["child"] or rng.random() < 0.3):
            emails.append(shared_email)
        for n, address in enumerate(dict.fromkeys(emails)):
            location = rng.choice(("Home", "Work", "Other"))
            email = {"address": address, "location": location, "primary": n == 0, "person_id": pid}
            self.store.insert("Email", {**email, **self.stamps(400)}, emit=False)
        for n in range(0 if person["child"] else rng.choice((0, 1, 1, 2, 3))):
            phone = {**self.phone(), "location": rng.choice(("Mobile", "Home", "Work"))}
            self.store.insert(
                "PhoneNumber",
                {**phone, "primary": n == 0, "person_id": pid, **self.stamps(400)},
                emit=False,
            )

    def email_address(self, person: dict[str, Any], n: int) -> str:
        local = (
            f"{person['first_name']}.{person['last_name']}".lower()
            .replace(" ", "")
            .replace("'", "")
        )
        domain = self.rng.choice(("example.org", "example.com", "example.net"))
        return f"{local}{person['id'][-4:]}{n or ''}@{domain}"

    def phone(self) -> dict[str, Any]:
        """A number typed in one of many formats; derived fields computed without parsing."""
        if self.rng.random() < 0.03:
            number = self.rng.choice(FOREIGN_NUMBERS)
            return {"number": number, **phone_fields(number)}
        area, line = self.rng.choice(AREA_CODES), f"01{self.rng.randrange(100):02d}"
        number = self.rng.choice(PHONE_FORMATS).format(a=area, e="555", l=line)
        return {
            "number": number,
            "e164": f"+1{area}555{line}",
            "national": f"({area}) 555-{line}",
            "international": f"+1 {area}-555-{line}",
            "country_code": "US",
        }

    def address(self, person_ids: list[str]) -> None:
        """One home address, recorded on each given person (household adults share it)."""
        city, state, zip_code = self.rng.choice(CITIES)
        street = f"{self.rng.randrange(10, 9999)} {self.rng.choice(STREETS)}"
        line_2 = self.rng.choice((None, None, None, f"Apt {self.rng.randrange(1, 40)}"))
        address = {
            "street_line_1": street, "street_line_2": line_2, "city": city, "state": state,
            "zip": zip_code, "country_code": "US", "location": "Home", "primary": True,
        }  # fmt: skip
        for person_id in person_ids:
            stamps = self.stamps(400)
            self.store.insert("Address", {**address, "person_id": person_id, **stamps}, emit=False)
            if self.more is not None:
                self.more.second_address(person_id, stamps)


def _age(birthdate: str, today: date) -> int:
    born = date.fromisoformat(birthdate)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _household(maker: PeopleMaker, size: int) -> list[dict[str, Any]]:
    rng = maker.rng
    last_name = rng.choice(LAST_NAMES)
    adults = min(size, rng.choice((1, 2, 2)))
    has_children = size > adults
    members = [maker.person(last_name, n >= adults, parent=has_children) for n in range(size)]
    shared = maker.email_address(members[0], 9) if size > 1 else None
    for member in members:
        maker.contact_data(member, shared)
    maker.address([m["id"] for m in members if not m["child"]])
    household = {
        "name": f"{last_name} Household",
        "primary_contact_id": members[0]["id"],
        **maker.stamps(),
    }
    household_id = maker.store.insert("Household", household, emit=False)["id"]
    insert_many(
        maker.store,
        "HouseholdMembership",
        ({"household_id": household_id, "person_id": m["id"], "pending": False} for m in members),
    )
    return members


def _duplicate_of(maker: PeopleMaker, original: dict[str, Any]) -> dict[str, Any]:
    """A second record for the same human: same name and birthdate, one shared email."""
    keys = ("first_name", "birthdate", "gender")
    copy = maker.person(original["last_name"], original["child"], **{k: original[k] for k in keys})
    emails = maker.store.lookup("Email", "person_id", original["id"])
    if emails:
        address = maker.store.tables["Email"][emails[0]]["address"]
        email = {"address": address, "location": "Home", "primary": True, "person_id": copy["id"]}
        maker.store.insert("Email", email, emit=False)
    return copy


def generate(store: Store, people: int, seed: int, now: datetime) -> None:
    """Fill the store with ``people`` people and everything around them."""
    rng = random.Random(seed)
    maker = PeopleMaker(store, rng, now, MoreMaker(store, seed, now) if people else None)
    store.clock = lambda: utc_stamp(now)
    try:
        _generate(maker, people)
        generate_field_data(store, seed, list(store.table("Person")))
    finally:
        store.clock = utc_stamp


def _generate(maker: PeopleMaker, people: int) -> None:
    store, rng, now = maker.store, maker.rng, maker.now
    made: list[dict[str, Any]] = []
    while len(made) < people:
        left = people - len(made)
        roll = rng.random()
        if roll < 0.12:
            single = maker.person(rng.choice(LAST_NAMES), child=False)
            maker.contact_data(single)
            if rng.random() < 0.5:
                maker.address([single["id"]])
            made.append(single)
        elif roll < 0.15 and made:
            made.append(_duplicate_of(maker, rng.choice(made)))
        else:
            made += _household(maker, min(left, rng.choice((1, 2, 2, 3, 4, 4, 5, 6))))
    generate_activity(store, rng, now, [p["id"] for p in made])
