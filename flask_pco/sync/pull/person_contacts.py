"""The contacts of a page of PCO people (emails, phones, addresses): matched by PCO id, else by
their key (the address, the E.164 number), added, updated and, when PCO dropped them, removed.

Every lookup is made for the whole page at once. A page of people this pull has just inserted
(a first pull) cannot own any contact yet: one query tells whether any contact holds one of its
PCO ids (a merge in PCO moves contacts between people) before any is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String, bindparam, exists, literal, or_, select, union_all

from flask_pco.mapping.people import PersonData
from flask_pco.sync.context import SyncContext
from flask_pco.sync.journal import record, record_fields
from flask_pco.sync.policy import PCO_OWNED, comparable
from flask_pco.sync.pull.household_links import Written
from flask_pco.sync.rows import insert_rows, merge_into

__all__ = ["CONTACTS", "ContactKind", "ContactsWriter", "NewPerson"]


@dataclass(frozen=True)
class ContactKind:
    """How one kind of contact (email, phone) is keyed and written."""

    role: str
    items: Callable[[PersonData], tuple[Any, ...]]
    #: The field that identifies a contact when it has no PCO id yet (address, E.164 number).
    key_field: str
    values: Callable[[Any], dict[str, Any]]


CONTACTS = (
    ContactKind(
        "email",
        lambda p: p.emails,
        "email",
        lambda e: {"email": e.address, "is_primary": e.is_primary},
    ),
    ContactKind(
        "phone",
        lambda p: p.phones,
        "phone",
        lambda ph: {"phone": ph.e164, "kind": ph.kind, "is_primary": ph.is_primary},
    ),
    # Every PCO address of the person, for a host with a person-address model.
    ContactKind(
        "person_address", lambda p: p.addresses, "street_line_1", lambda a: a.as_person_address()
    ),
)


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person this page inserted: their contacts only need the id."""

    id: int
    pco_id: str


class ContactsWriter:
    """Writes the contacts of people a page of PCO people wrote (``PeopleWriter``)."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx

    def apply(self, written: Written) -> set[int]:
        """Sync the contacts of the page's written people; the ``id`` of each person row whose
        contacts changed."""
        kinds = [kind for kind in CONTACTS if self.ctx.roles.has(kind.role)]
        # A person this page inserted has no contacts yet: only PCO's ids can find any.
        owners = [r.id for _, r, _ in written if not isinstance(r, NewPerson)]
        pco_ids = {kind.role: _pco_ids(kind, written) for kind in kinds}
        held = {role for role, ids in pco_ids.items() if ids}
        if not owners and held:
            held = self._held(pco_ids)
        changed: set[int] = set()
        for kind in kinds:
            ids = pco_ids[kind.role] if kind.role in held else []
            local, by_pco = self._load_contacts(kind, owners, ids)
            new: list[dict[str, Any]] = []
            for person, row, outcome in written:
                if outcome != "stale" and self._sync_contacts(
                    kind, person, row, local[row.id], by_pco, new
                ):
                    changed.add(id(row))
            if new:  # one multi-row INSERT: most contacts of a first sync are new
                insert_rows(self.ctx, self.ctx.roles.model(kind.role), new)
        return changed

    def _load_contacts(
        self, kind: ContactKind, owners: list[int], pco_ids: list[str]
    ) -> tuple[dict[int, list[Any]], dict[str, Any]]:
        """The contacts of ``owners``, and any row holding one of ``pco_ids``."""
        model = self.ctx.roles.model(kind.role)
        owner = getattr(model, self.ctx.roles.column(kind.role, "person_id"))
        conditions = [owner.in_(owners)] if owners else []
        conditions += [model.pco_id.in_(pco_ids)] if pco_ids else []
        local: dict[int, list[Any]] = defaultdict(list)
        by_pco: dict[str, Any] = {}
        if not conditions:
            return local, by_pco
        for contact in self.ctx.session.scalars(select(model).where(or_(*conditions))):
            local[self._owner(kind, contact)].append(contact)
            if contact.pco_id:
                by_pco[contact.pco_id] = contact
        return local, by_pco

    def _held(self, pco_ids: dict[str, list[str]]) -> set[str]:
        """The contact roles with a row holding one of their PCO ids, in one query for all
        of them: on a first pull none has, and this costs a fraction of loading through
        the ORM what it would find, once a page rather than once a kind."""
        roles = tuple(role for role, ids in pco_ids.items() if ids)
        key = f"contacts_held:{','.join(roles)}"
        query = self.ctx.memo.get(key)
        if query is None:  # built once a run: building it cost as much as running it
            parts = []
            for role in roles:
                model = self.ctx.roles.model(role)
                ids = bindparam(f"ids_{role}", expanding=True, type_=model.pco_id.type)
                held = exists().where(model.pco_id.in_(ids))
                parts.append(select(literal(role, String())).where(held))
            query = self.ctx.memo[key] = union_all(*parts) if len(parts) > 1 else parts[0]
        params = {f"ids_{role}": pco_ids[role] for role in roles}
        return set(self.ctx.session.connection().execute(query, params).scalars())

    def _sync_contacts(
        self,
        kind: ContactKind,
        person: PersonData,
        row: Any,
        local: list[Any],
        by_pco: dict[str, Any],
        new: list[dict[str, Any]],
    ) -> bool:
        """Add and update PCO's contacts; delete only local ones that came from PCO and left it."""
        key_column = self.ctx.roles.column(kind.role, kind.key_field)
        by_key = {_fold(getattr(c, key_column)): c for c in local if c.pco_id is None}
        kept: set[int] = set()
        changed = False
        for data in kind.items(person):
            values = kind.values(data)
            contact = by_pco.get(data.pco_id) if data.pco_id else None
            contact = contact or by_key.pop(_fold(values[kind.key_field]), None)
            if contact is None:
                new.append(self._new_contact(kind, row, data.pco_id, values))
                if not isinstance(row, NewPerson):  # a new person's create entry covers it
                    record(self.ctx, kind.role, "create", pco_id=data.pco_id,
                           new={**values, "person_id": row.id})  # fmt: skip
                changed = True
                continue
            changed |= self._update_contact(kind, contact, row, data.pco_id, values)
            kept.add(id(contact))
        for contact in local:
            if id(contact) not in kept and contact.pco_id and self._owner(kind, contact) == row.id:
                self._remove_contact(kind, contact)
                changed = True
        return changed

    def _new_contact(
        self, kind: ContactKind, row: Any, pco_id: str | None, values: dict[str, Any]
    ) -> dict[str, Any]:
        """A contact row as INSERT parameters, agreed with PCO from the start."""
        values = self.ctx.roles.known(kind.role, values)
        return {
            **self.ctx.roles.columns(kind.role, values),
            self.ctx.roles.column(kind.role, "person_id"): row.id,
            "pco_id": pco_id,
            "pco_snapshot": {k: comparable(v) for k, v in values.items()},
        }

    def _update_contact(
        self, kind: ContactKind, contact: Any, row: Any, pco_id: str | None, values: dict[str, Any]
    ) -> bool:
        changed = merge_into(self.ctx, contact, kind.role, values)
        if self._owner(kind, contact) != row.id:  # PCO moved it (a merge of two people)
            move = {"person_id": (self._owner(kind, contact), row.id)}
            record_fields(self.ctx, kind.role, contact, move)
            setattr(contact, self.ctx.roles.column(kind.role, "person_id"), row.id)
            changed = True
        if pco_id and contact.pco_id != pco_id:
            record(self.ctx, kind.role, "link", row=contact, pco_id=pco_id,
                   old=contact.pco_id, new=pco_id)  # fmt: skip
            contact.pco_id = pco_id
            changed = True
        return changed

    def _remove_contact(self, kind: ContactKind, contact: Any) -> None:
        """Delete a contact PCO no longer has, journaled with its values to restore it from."""
        fields = (*PCO_OWNED[kind.role], "person_id")
        old = {f: getattr(contact, self.ctx.roles.column(kind.role, f), None) for f in fields}
        record(self.ctx, kind.role, "remove", local_id=contact.id, pco_id=contact.pco_id, old=old)
        self.ctx.session.delete(contact)

    def _owner(self, kind: ContactKind, contact: Any) -> int:
        return cast(int, getattr(contact, self.ctx.roles.column(kind.role, "person_id")))


def _pco_ids(kind: ContactKind, written: Written) -> list[str]:
    return [c.pco_id for person, _, _ in written for c in kind.items(person) if c.pco_id]


def _fold(value: Any) -> str:
    return str(value or "").strip().lower()
