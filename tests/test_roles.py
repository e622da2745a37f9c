"""The start-up check of the host's models against the roles they are registered for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flask_pco import PCO, ConfigError, PcoLinkedMixin
from flask_pco.roles import ROLE_FIELDS
from tests.lean_site import CLASSES, FIELDS, dispose, lean_app

db = SQLAlchemy()


class Parishioner(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "parishioners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    baptised_at: Mapped[date | None] = mapped_column(DateTime, nullable=True)


class ParishionerEmail(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "parishioner_emails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parishioner_id: Mapped[int] = mapped_column(ForeignKey("parishioners.id"))
    email: Mapped[str] = mapped_column(String(255))


class Visitor(db.Model):  # type: ignore[name-defined,misc]
    """A model someone forgot to give PcoLinkedMixin."""

    __tablename__ = "visitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)


def start(**register: Any) -> None:
    pco = PCO(db)
    pco.register_models(**register)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI="sqlite://")
    pco.init_app(app)


def test_missing_columns_fail_at_start_up_with_one_line_naming_the_fields_mapping() -> None:
    with pytest.raises(ConfigError) as failure:
        start(person=Parishioner, email=ParishionerEmail)
    message = str(failure.value)
    assert "\n" not in message
    assert "Parishioner (person) has no column 'first_name' (text, String/Text)," in message
    assert "'dob' (a date, Date)" in message
    assert "ParishionerEmail (email) has no column 'person_id' (the person's id" in message
    assert (
        "pco.register_models(..., fields={'person': {'first_name': 'given_name', "
        "'last_name': 'surname', 'dob': 'birth_date'}, 'email': {'person_id': 'parishioner_id'}})"
    ) in message


def test_the_suggested_mapping_starts_the_site() -> None:
    start(
        person=Parishioner,
        email=ParishionerEmail,
        fields={
            "person": {"first_name": "given_name", "last_name": "surname", "dob": "birth_date"},
            "email": {"person_id": "parishioner_id"},
        },
    )


def test_a_column_of_the_wrong_type_fails_at_start_up() -> None:
    fields = {"first_name": "given_name", "last_name": "surname", "dob": "baptised_at"}
    with pytest.raises(
        ConfigError, match=r"column 'baptised_at' for dob is DATETIME; it must hold a date"
    ):
        start(person=Parishioner, fields={"person": fields})


def test_a_model_without_the_mixin_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match=r"Visitor \(person\) has no pco_id.*add PcoLinkedMixin"):
        start(person=Visitor)


def test_a_mapping_to_a_column_the_model_lacks_fails_even_for_an_optional_field() -> None:
    fields = {"first_name": "given_name", "last_name": "surname", "dob": "birth_date"}
    with pytest.raises(ConfigError, match=r"Parishioner \(person\) has no column 'sex' for gender"):
        start(person=Parishioner, fields={"person": {**fields, "gender": "sex"}})


def test_optional_columns_a_site_lacks_are_not_required() -> None:
    optional = {f.name for fields in ROLE_FIELDS.values() for f in fields if not f.required}
    assert {"gender", "child", "is_active", "is_primary", "kind", "relationship"} <= optional
    assert {"street", "city", "state", "zip"} <= optional


@pytest.fixture
def lean(database_url: str) -> Iterator[Any]:
    apps: list[Flask] = []

    def build(roles: Any = tuple(CLASSES)) -> Flask:
        apps.append(lean_app(database_url, roles))
        return apps[-1]

    yield build
    for app in apps:
        dispose(app)


def test_a_site_without_any_optional_column_starts(lean: Any) -> None:
    app = lean()
    assert set(app.extensions["pco"].roles.classes) == set(CLASSES)
    assert not app.extensions["pco"].roles.present("person", "child")
    assert app.extensions["pco"].roles.present("person", "dob")


class Churchgoer(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    """A person model that keeps a primary campus and a grade."""

    __tablename__ = "churchgoers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(10), nullable=True)
    primary_campus_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


def test_a_campus_column_without_a_campus_model_and_a_mistyped_grade_fail_at_start_up() -> None:
    with pytest.raises(ConfigError) as failure:
        start(person=Churchgoer)
    message = str(failure.value)
    assert "column 'grade' for grade is VARCHAR(10); it must hold a whole number" in message
    assert "register pco.register_models(campus=YourModel) too" in message


def test_a_church_column_every_model_lacks_fails_at_start_up() -> None:
    expected = r"organization_column='church_id', but Member \(person\) has no column"
    with pytest.raises(ConfigError, match=expected):
        start(person=CLASSES["person"], fields={"person": FIELDS["person"]},
              organization_column="church_id")  # fmt: skip
