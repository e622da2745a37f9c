"""The admin page's Changes view and per-record history: the change journal, searchable and
paged, newest first, in the same words as ``flask pco changes`` and ``flask pco history``
(``sync/history.py`` words and queries both). Routes of the admin blueprint, so its access
check applies; they only read, so there is nothing for CSRF to guard.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from werkzeug.datastructures import MultiDict

from flask_pco.journal_table import JOURNAL_ACTIONS, JOURNAL_SIDES
from flask_pco.state import current_pco
from flask_pco.sync.history import (
    RECORD_LINKS,
    ChangeFilter,
    change_line,
    labels,
    search_changes,
    source,
)
from flask_pco.web.admin import admin_blueprint, is_htmx

__all__ = ["change_filter"]

#: Entries a page shows.
PER_PAGE = 50
#: The record types an admin can pick (the journal's roles), in the order the page lists them.
RECORD_TYPES = (
    "person", "email", "phone", "person_address", "family", "family_address", "family_member",
    "group", "group_membership", "event", "location", "campus",
)  # fmt: skip


def change_filter(args: MultiDict[str, str]) -> tuple[ChangeFilter, list[str]]:
    """The filter the query string asks for, and what in it was not understood (shown, not
    fatal: the admin sees the other filters still apply)."""
    problems: list[str] = []
    choices = {"record_type": RECORD_TYPES, "side": JOURNAL_SIDES, "action": JOURNAL_ACTIONS}
    picked: dict[str, str] = {}
    for name, allowed in choices.items():
        value = args.get(name, "").strip()
        if value and value not in allowed:
            problems.append(f"unknown {name.replace('_', ' ')} {value!r}")
            value = ""
        picked[name] = value
    numbers: dict[str, int | None] = {}
    for name in ("run", "delivery"):
        text = args.get(name, "").strip()
        numbers[name] = int(text) if text.isdigit() else None
        if text and numbers[name] is None:
            problems.append(f"a {name} is a number, not {text!r}")
    person = args.get("person", "").strip()[:200]
    wanted = ChangeFilter(
        person=person,
        record_type=picked["record_type"],
        side=picked["side"],
        action=picked["action"],
        run_id=numbers["run"],
        delivery_id=numbers["delivery"],
    )
    return wanted, problems


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 100_000 else 1


def _rows(entries: list[Any]) -> list[dict[str, Any]]:
    """What each table row shows; the change in the CLI's own words."""
    state = current_pco()
    names = labels(state, entries)
    return [
        {
            "entry": entry,
            "source": source(entry),
            "change": change_line(entry, names),
            "history": entry.record_type in ("person", *RECORD_LINKS) and entry.local_id,
        }
        for entry in entries
    ]


def _render(page_template: str, wanted: ChangeFilter, **context: Any) -> str:
    found = search_changes(current_pco(), wanted, _page_number(request.args.get("page")), PER_PAGE)
    template = "pco/_changes_table.html" if is_htmx() else page_template
    return render_template(
        template,
        found=found,
        rows=_rows(found.entries),
        wanted=wanted,
        # The filter and the record, for the pager's links.
        page_args={
            **(request.view_args or {}),
            **{k: v for k, v in request.args.items() if k != "page" and v},
        },
        active_tab="changes",
        record_types=RECORD_TYPES,
        sides=JOURNAL_SIDES,
        actions=JOURNAL_ACTIONS,
        **context,
    )


@admin_blueprint.get("/changes")
def changes_view() -> str:
    """Every journaled change, filtered by person, record type, side, action and run."""
    wanted, problems = change_filter(request.args)
    return _render("pco/changes.html", wanted, problems=problems)


@admin_blueprint.get("/history/<role>/<int:local_id>")
def record_history_view(role: str, local_id: int) -> str:
    """One person's, family's or group's history, newest first."""
    if role != "person" and role not in RECORD_LINKS:
        abort(404)
    state = current_pco()
    if not state.roles.has(role):
        abort(404)
    row = state.db.session.get(state.roles.model(role), local_id)
    return _render(
        "pco/record_history.html",
        ChangeFilter(record=(role, local_id)),
        role=role,
        local_id=local_id,
        title=_title(role, local_id, row),
    )


def _title(role: str, local_id: int, row: Any) -> str:
    """ "Maria García (person #12)"; a record since deleted keeps its history, by id."""
    state = current_pco()
    if row is None:
        return f"{role} #{local_id} (no longer here)"
    if role == "person":
        parts = (getattr(row, state.roles.column("person", f)) for f in ("first_name", "last_name"))
        name = " ".join(str(p) for p in parts if p)
    else:
        name = str(getattr(row, state.roles.column(role, "name")) or "")
    return f"{name or role} ({role} #{local_id})"
