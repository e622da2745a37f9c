"""The example church's own schema: the local tables of the flask-pco spec."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, orm
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from flask_pco import PcoLinkedMixin, pco_id_index, pco_unlinked_index
from flask_pco.models import utcnow


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A login for the church site; only ``role == "admin"`` may use the PCO admin page."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="staff")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Person(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "people"
    __table_args__ = (pco_id_index("people"), pco_unlinked_index("people"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    gender: Mapped[str | None] = mapped_column(String(20), nullable=True)
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    is_child: Mapped[bool] = mapped_column(Boolean, default=False)
    # Two of PCO's custom fields (CUSTOM_FIELDS below), synced like the fields above.
    shirt_size: Mapped[str | None] = mapped_column(String(10), nullable=True)
    baptism_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Local-owned operational data: no sync ever writes these.
    allergies: Mapped[str | None] = mapped_column(Text, nullable=True)
    photo_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # More of PCO's person fields: each is synced because the column exists (none is required).
    nickname: Mapped[str | None] = mapped_column(String(120), nullable=True)
    middle_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    membership: Mapped[str | None] = mapped_column(String(60), nullable=True)
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    graduation_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anniversary: Mapped[date | None] = mapped_column(Date, nullable=True)
    primary_campus_id: Mapped[int | None] = mapped_column(
        ForeignKey("campuses.id"), nullable=True, index=True
    )
    avatar_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    marital_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    household_role: Mapped[str | None] = mapped_column(String(40), nullable=True)

    emails: Mapped[list[PersonEmail]] = orm.relationship(
        back_populates="person", order_by="PersonEmail.id"
    )
    phones: Mapped[list[PersonPhone]] = orm.relationship(
        back_populates="person", order_by="PersonPhone.id"
    )
    addresses: Mapped[list[PersonAddress]] = orm.relationship(
        back_populates="person", order_by="PersonAddress.id"
    )
    campus: Mapped[Campus | None] = orm.relationship()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PersonEmail(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "person_emails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    person: Mapped[Person] = orm.relationship(back_populates="emails")


class PersonPhone(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "person_phones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    person: Mapped[Person] = orm.relationship(back_populates="phones")


class PersonAddress(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    """Every address PCO keeps for a person (the family keeps its primary contact's too)."""

    __tablename__ = "person_addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    street_line_1: Mapped[str | None] = mapped_column(String(255), nullable=True)
    street_line_2: Mapped[str | None] = mapped_column(String(255), nullable=True)
    city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    state: Mapped[str | None] = mapped_column(String(60), nullable=True)
    zip: Mapped[str | None] = mapped_column(String(20), nullable=True)
    location: Mapped[str | None] = mapped_column(String(20), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    person: Mapped[Person] = orm.relationship(back_populates="addresses")


class Campus(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    """A PCO campus; people name their primary one."""

    __tablename__ = "campuses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str | None] = mapped_column(String(60), nullable=True)
    city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    state: Mapped[str | None] = mapped_column(String(60), nullable=True)


class Family(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "families"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(255), nullable=True)
    city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    state: Mapped[str | None] = mapped_column(String(60), nullable=True)
    zip: Mapped[str | None] = mapped_column(String(20), nullable=True)
    members: Mapped[list[FamilyMember]] = orm.relationship(back_populates="family")


class FamilyMember(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "family_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(20), default="adult")  # adult / child
    family: Mapped[Family] = orm.relationship(back_populates="members")
    person: Mapped[Person] = orm.relationship()


class ChurchGroup(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    """Department → area → group; PCO group types become areas under a "PCO Groups" department."""

    __tablename__ = "church_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # department / area / group
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("church_group.id"), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Local group metadata: PCO has no equivalent, so no sync writes these.
    meeting_day: Mapped[str | None] = mapped_column(String(20), nullable=True)
    childcare: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupMembership(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "group_membership"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("church_group.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)


class Event(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Location(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CheckIn(db.Model):  # type: ignore[name-defined,misc]
    """A check-in made on this site's kiosk; local only, never pushed to PCO."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), nullable=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), nullable=True)
    security_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


#: PCO custom fields (by name, as PCO shows them) → the person columns that hold them.
CUSTOM_FIELDS: dict[str, dict[Any, str]] = {
    "person": {"T-shirt size": "shirt_size", "Baptism date": "baptism_date"}
}

MODEL_ROLES: dict[str, Any] = {
    "person": Person,
    "email": PersonEmail,
    "phone": PersonPhone,
    "family": Family,
    "family_member": FamilyMember,
    "group": ChurchGroup,
    "group_membership": GroupMembership,
    "event": Event,
    "location": Location,
    "campus": Campus,
    "person_address": PersonAddress,
}
