"""Derived attributes and per-version renderings (REFERENCE §1.8 breaking changes).

The store keeps the newest shape (full-word gender, two street lines, ``summary``); older
versions are produced here at render time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_pco.sandbox.serialize import RenderContext

GENDER_WORDS_SINCE = "2022-07-14"
STREET_LINES_SINCE = "2023-03-21"
CALENDAR_SUMMARY_SINCE = "2021-07-20"
GROUPS_THIN_MEMBERSHIP_SINCE = "2023-07-10"
AVATAR_URL = "https://avatars.planningcenteronline.com/uploads/initials/{}.png"

#: A hook fills derived attributes; it returns True when it renamed keys (older versions),
#: so the renderer re-sorts them.
Hook = Callable[[dict[str, Any], dict[str, Any], "RenderContext"], bool | None]


def full_name(person: dict[str, Any] | None) -> str | None:
    if person is None:
        return None
    return " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p) or None


def _initials_avatar(person: dict[str, Any]) -> str:
    letters = "".join((person.get(k) or "?")[0] for k in ("first_name", "last_name"))
    return AVATAR_URL.format(letters.upper())


def _person(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    attrs["name"] = full_name(record)
    attrs["avatar"] = attrs["demographic_avatar_url"] = record.get("avatar") or _initials_avatar(
        record
    )
    if ctx.version < GENDER_WORDS_SINCE and attrs.get("gender"):
        attrs["gender"] = attrs["gender"][0]


def _address(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> bool | None:
    attrs["country_name"] = "United States" if attrs.get("country_code") == "US" else None
    if ctx.version < STREET_LINES_SINCE:
        lines = (attrs.pop("street_line_1"), attrs.pop("street_line_2"))
        attrs["street"] = "\n".join(line for line in lines if line) or None
        return True
    return None


def _household(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    attrs["member_count"] = len(
        ctx.store.lookup("HouseholdMembership", "household_id", record["id"])
    )
    primary = ctx.store.get("Person", record.get("primary_contact_id"))
    attrs["primary_contact_name"] = full_name(primary)


def _household_membership(
    attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext
) -> None:
    attrs["person_name"] = full_name(ctx.store.get("Person", record.get("person_id")))


def _person_merger(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    # PCO renders these two foreign keys as JSON numbers (REFERENCE §0).
    for key in ("person_to_keep_id", "person_to_remove_id"):
        attrs[key] = int(record[key]) if record.get(key) else None


def _group(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    attrs["memberships_count"] = len(ctx.store.lookup("Membership", "group_id", record["id"]))


def _list(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    attrs["total_people"] = len(ctx.store.lookup("ListResult", "list_id", record["id"]))
    attrs["name_or_description"] = attrs.get("name")


def _contact_arrays(ctx: RenderContext, person_id: str) -> dict[str, list[dict[str, Any]]]:
    def rows(table: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        records = (
            ctx.store.tables[table][rid] for rid in ctx.store.lookup(table, "person_id", person_id)
        )
        return [{key: rec.get(key) for key in keys} for rec in records]

    return {
        "email_addresses": rows("Email", ("address", "location", "primary")),
        "phone_numbers": rows("PhoneNumber", ("number", "carrier", "location", "primary")),
        "addresses": rows(
            "Address", ("street_line_1", "city", "state", "zip", "location", "primary")
        ),
    }


def _groups_person(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> None:
    attrs.update(_contact_arrays(ctx, record["id"]))
    attrs["avatar_url"] = record.get("avatar") or _initials_avatar(record)
    leads = any(
        ctx.store.tables["Membership"][mid]["role"] == "leader"
        for mid in ctx.store.lookup("Membership", "person_id", record["id"])
    )
    attrs["permissions"] = "leader" if leads else "member"


def _membership(attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext) -> bool | None:
    if ctx.version < GROUPS_THIN_MEMBERSHIP_SINCE:
        person = ctx.store.get("Person", record.get("person_id")) or {}
        attrs.update({key: person.get(key) for key in ("first_name", "last_name")})
        attrs["avatar_url"] = _initials_avatar(person) if person else None
        return True
    return None


def _calendar_event(
    attrs: dict[str, Any], record: dict[str, Any], ctx: RenderContext
) -> bool | None:
    if ctx.version < CALENDAR_SUMMARY_SINCE:
        attrs["details"] = attrs.pop("summary")
        return True
    return None


COMPUTED: dict[str, Hook] = {
    "Person": _person,
    "Address": _address,
    "Household": _household,
    "HouseholdMembership": _household_membership,
    "PersonMerger": _person_merger,
    "Group": _group,
    "List": _list,
    "Membership": _membership,
    "GroupsPerson": _groups_person,
    "CalendarEvent": _calendar_event,
}
