"""A host site with custom-field columns of every type PCO has, under its own names.

``parishioners`` keep their names as ``given_name``/``surname`` and, beside them, one column
per standard sandbox custom field: ``shirt_size`` (select), ``baptised_on`` (date),
``interests`` (checkboxes, a JSON list), ``allergy_notes`` (text), ``years_attending``
(number) and ``background_checked`` (boolean). Tests register it with the mapping and rules
they are about.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flask_pco import PCO, PcoLinkedMixin, pco_id_index, pco_unlinked_index
from tests.conftest import empty_tables

fields_db = SQLAlchemy()


class Parishioner(PcoLinkedMixin, fields_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "parishioners"
    __table_args__ = (pco_id_index("parishioners"), pco_unlinked_index("parishioners"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    shirt_size: Mapped[str | None] = mapped_column(String(10), nullable=True)
    baptised_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    interests: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    allergy_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    years_attending: Mapped[int | None] = mapped_column(Integer, nullable=True)
    background_checked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


#: PCO's field name → the site's column, for every standard sandbox custom field.
CUSTOM = {
    "T-shirt size": "shirt_size",
    "Baptism date": "baptised_on",
    "Small group interest": "interests",
    "Allergy notes": "allergy_notes",
    "Years attending": "years_attending",
    "Background check": "background_checked",
}
NAMES = {"first_name": "given_name", "last_name": "surname", "dob": "birth_date"}


def fields_app(
    database_url: str,
    *,
    custom: dict[Any, str] | None = None,
    rules: dict[str, Any] | None = None,
    empty: bool = True,
    **config: Any,
) -> Flask:
    """The site with ``custom`` (default: every field) and person ``rules``, tables emptied
    (``empty=False``: as they are, the same site restarted with another mapping)."""
    pco = PCO(fields_db)
    pco.register_models(
        person=Parishioner,
        fields={"person": NAMES},
        custom_fields={"person": CUSTOM if custom is None else custom},
        rules={"person": rules or {}},
    )
    pco.admin_access(lambda: True)
    app = Flask(__name__)
    app.config.update(
        {"SECRET_KEY": "fields-secret", "SQLALCHEMY_DATABASE_URI": database_url, **config}
    )
    fields_db.init_app(app)
    pco.init_app(app)
    with app.app_context():
        fields_db.create_all()
        if empty:
            empty_tables(fields_db)
    return app


def dispose(app: Flask) -> None:
    with app.app_context():
        fields_db.engine.dispose()
