"""The site ``bench/pull.py --custom-fields N`` pulls into: people with custom-field columns.

``members`` keeps the names and birth date plus one column per standard sandbox custom field;
``--custom-fields N`` maps the first N of them (0: the same site without custom fields, the
comparison), so the two runs differ only in the custom fields.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flask_pco import PCO, PcoLinkedMixin, pco_id_index, pco_unlinked_index

db = SQLAlchemy()


class Member(PcoLinkedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "members"
    __table_args__ = (pco_id_index("members"), pco_unlinked_index("members"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    shirt_size: Mapped[str | None] = mapped_column(String(10), nullable=True)
    baptised_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    interests: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    allergy_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    years_attending: Mapped[int | None] = mapped_column(Integer, nullable=True)
    background_checked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


CUSTOM = (
    ("T-shirt size", "shirt_size"),
    ("Baptism date", "baptised_on"),
    ("Small group interest", "interests"),
    ("Allergy notes", "allergy_notes"),
    ("Years attending", "years_attending"),
    ("Background check", "background_checked"),
)


def fields_app(config: dict[str, object], custom_fields: int) -> Flask:
    """The site with the first ``custom_fields`` custom fields mapped."""
    pco = PCO(db)
    pco.register_models(person=Member, custom_fields={"person": dict(CUSTOM[:custom_fields])})
    app = Flask(__name__)
    app.config.update(config)
    db.init_app(app)
    pco.init_app(app)
    return app
