"""Hypothesis strategies for PCO-shaped input: JSON:API documents and webhook bodies, from
well-formed to broken, so fuzz tests explore the edges of what the parsers accept."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Any JSON value (bounded, so examples stay small and fast).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

PERSON_FIELDS = ("first_name", "last_name", "gender", "birthdate", "child", "status",
                 "remote_id", "updated_at", "inactivated_at")  # fmt: skip
_field_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.text(max_size=10).map(lambda t: t + "\x00")
    | st.text(min_size=100, max_size=300)  # longer than most site columns
    | st.sampled_from(["2025-03-15T10:00:00Z", "1990-04-02", "M", "Female", "inactive", "x-13-99"])
)
attributes = (
    st.dictionaries(st.sampled_from(PERSON_FIELDS), _field_values, max_size=6) | json_values
)
identifiers = st.none() | st.integers() | st.text(max_size=6) | st.booleans() | json_values
types = st.sampled_from(["Person", "Email", "PhoneNumber", "Household", ""]) | json_values


def _linkage(kind: str) -> Any:
    return (
        st.none() | st.fixed_dictionaries({"type": st.just(kind), "id": identifiers}) | json_values
    )


relationships = (
    st.none()
    | json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "emails": st.fixed_dictionaries(
                {"data": st.lists(_linkage("Email"), max_size=2) | json_values}
            ),
            "phone_numbers": st.fixed_dictionaries(
                {"data": st.lists(_linkage("PhoneNumber"), max_size=2) | json_values}
            ),
        },
    )
)
resources = json_values | st.fixed_dictionaries(
    {"type": types, "id": identifiers},
    optional={"attributes": attributes, "relationships": relationships, "links": json_values},
)
contacts = st.fixed_dictionaries(
    {"type": st.sampled_from(["Email", "PhoneNumber"]), "id": identifiers},
    optional={
        "attributes": st.fixed_dictionaries(
            {},
            optional=dict.fromkeys(
                ("address", "number", "e164", "primary", "location"), _field_values
            ),
        )
    },
)
documents = json_values | st.fixed_dictionaries(
    {"data": st.lists(resources, max_size=4) | resources | json_values},
    optional={
        "included": st.lists(contacts | resources, max_size=4) | json_values,
        "meta": json_values,
        "links": st.fixed_dictionaries({}, optional={"next": st.none() | st.text(max_size=5)})
        | json_values,
    },
)

EVENT_NAMES = (
    "people.v2.events.person.created",
    "people.v2.events.person.updated",
    "people.v2.events.person.destroyed",
    "people.v2.events.email.updated",
    "people.v2.events.household.updated",
    "people.v2.events.person_merger.created",
)


@st.composite
def payloads(draw: Any) -> Any:
    """What an EventDelivery's ``payload`` holds: usually a JSON string, sometimes not."""
    document = draw(documents)
    return draw(st.just(json.dumps(document)) | st.text(max_size=20) | json_values)


deliveries = json_values | st.fixed_dictionaries(
    {"id": identifiers, "type": st.just("EventDelivery") | json_values},
    optional={
        "attributes": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(EVENT_NAMES) | st.text(max_size=12) | json_values,
                "attempt": st.integers(-1, 5) | json_values,
                "payload": payloads(),
            },
        )
    },
)
#: A Person whose attributes may be anything a PCO person field could hold, or not.
person_resources = st.fixed_dictionaries(
    {
        "type": st.just("Person"),
        "id": st.integers(1, 10**8).map(str),
        "attributes": st.fixed_dictionaries(
            {},
            optional={
                name: (st.text(min_size=1, max_size=8) | _field_values)
                if name.endswith("_name")
                else _field_values
                for name in PERSON_FIELDS
            },
        ),
    },
    optional={"relationships": relationships},
)
person_documents = st.fixed_dictionaries(
    {"data": person_resources, "included": st.just([]), "meta": st.just({})}
)
#: A listing page of mostly people, some broken, with contacts to include.
people_pages = st.fixed_dictionaries(
    {
        "data": st.lists(person_resources | resources, max_size=5),
        "included": st.lists(contacts, max_size=4),
        "meta": st.just({}),
        "links": st.just({}),
    }
)
#: Well-formed envelopes whose payload may still be wrong in any attribute.
good_deliveries = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "type": st.just("EventDelivery"),
        "attributes": st.fixed_dictionaries(
            {
                "name": st.sampled_from(EVENT_NAMES),
                "attempt": st.integers(1, 3),
                "payload": st.one_of(person_documents, documents).map(json.dumps),
            }
        ),
    }
)
webhook_bodies = (
    st.fixed_dictionaries({"data": st.lists(good_deliveries, min_size=1, max_size=3)}).map(
        lambda v: json.dumps(v).encode()
    )
    | st.binary(max_size=60)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.fixed_dictionaries({"data": st.lists(deliveries, max_size=3) | deliveries}).map(
        lambda v: json.dumps(v).encode()
    )
)
