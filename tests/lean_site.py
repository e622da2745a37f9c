"""A host site unlike example_app: its own table and column names, and no optional column.

``members`` has ``given_name``, ``surname`` and ``birth_date`` but no gender, child or active
flag, and ``badges`` (one per member) point at it; its emails and phones point at it through ``member_id`` and carry neither a primary flag
nor a kind; ``households`` keep no address and ``household_members`` no relationship. Tests
register any subset of its roles, as a site that has only some of them would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flask_pco import PCO, PcoLinkedMixin, pco_id_index, pco_unlinked_index
from tests.conftest import empty_tables

lean_db = SQLAlchemy()


class Member(PcoLinkedMixin, lean_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "members"
    __table_args__ = (pco_id_index("members"), pco_unlinked_index("members"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class Badge(lean_db.Model):  # type: ignore[name-defined,misc]
    """The site's own table, which no sync names: one name badge per member, a rule of its own."""

    __tablename__ = "badges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    code: Mapped[str] = mapped_column(String(20))


class MemberEmail(PcoLinkedMixin, lean_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "member_emails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    address: Mapped[str] = mapped_column(String(255))


class MemberPhone(PcoLinkedMixin, lean_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "member_phones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    number: Mapped[str] = mapped_column(String(32))


class Household(PcoLinkedMixin, lean_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "households"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class HouseholdMember(PcoLinkedMixin, lean_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "household_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))


CLASSES: dict[str, Any] = {
    "person": Member,
    "email": MemberEmail,
    "phone": MemberPhone,
    "family": Household,
    "family_member": HouseholdMember,
}
FIELDS: dict[str, dict[str, str]] = {
    "person": {"first_name": "given_name", "last_name": "surname", "dob": "birth_date"},
    "email": {"person_id": "member_id", "email": "address"},
    "phone": {"person_id": "member_id", "phone": "number"},
    "family": {"name": "label"},
    "family_member": {"family_id": "household_id", "person_id": "member_id"},
}
PEOPLE_ONLY = ("person", "email", "phone")


def lean_app(
    database_url: str,
    roles: Iterable[str] = tuple(CLASSES),
    *,
    admin: bool = True,
    csrf: str = "",
    fields: dict[str, dict[str, str]] | None = None,
    create_tables: bool = True,
    rules: dict[str, dict[str, Any]] | None = None,
    **config: Any,
) -> Flask:
    """The lean site with only ``roles`` registered, its tables created and emptied.

    ``csrf`` ("before" or "after") sets up Flask-WTF's CSRFProtect before or after flask-pco;
    ``fields`` replaces the site's mapping; ``create_tables=False`` leaves the database as is;
    ``rules`` are its sync rules.
    """
    roles = tuple(roles)
    pco = PCO(lean_db)
    pco.register_models(
        **{role: CLASSES[role] for role in roles},
        fields=fields if fields is not None else {role: FIELDS[role] for role in roles},
        rules=rules,
    )
    pco.admin_access(lambda: admin)
    app = Flask(__name__)
    app.config.update(
        {
            "SECRET_KEY": "lean-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PCO_APP_ID": "test-app-id",
            "PCO_SECRET": "test-secret",
            **config,
        }
    )
    lean_db.init_app(app)
    if csrf == "before":
        CSRFProtect(app)
    pco.init_app(app)
    if csrf == "after":
        CSRFProtect(app)
    if create_tables:
        with app.app_context():
            lean_db.create_all()
            empty_tables(lean_db)
    return app


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (the session's PostgreSQL database is dropped last)."""
    with app.app_context():
        lean_db.engine.dispose()
