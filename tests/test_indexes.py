"""The partial indexes check their dialect options when read, and still compile and refuse as
SQLAlchemy's own ``Index`` does."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError
from sqlalchemy.schema import CreateIndex

from flask_pco.indexes import PartialIndex, pco_id_index


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_the_pco_id_index_is_created_partial_on_either_database(dialect) -> None:
    table = Table("t", MetaData(), Column("id", Integer), Column("pco_id", Integer))
    index = pco_id_index("t")
    index._set_parent(table)
    ddl = str(CreateIndex(index).compile(dialect=dialect))
    assert ddl == "CREATE UNIQUE INDEX uq_t_pco_id ON t (pco_id) WHERE pco_id IS NOT NULL"


def test_a_misspelt_dialect_option_is_refused_when_read() -> None:
    index = PartialIndex("ix_t", "pco_id", sqlite_wher=text("pco_id IS NULL"))
    with pytest.raises(ArgumentError, match="sqlite_wher"):
        index.dialect_options  # noqa: B018 - reading is what checks


def test_options_given_after_the_first_read_are_checked_at_once() -> None:
    index = PartialIndex("ix_t", "pco_id", sqlite_where=text("pco_id IS NULL"))
    assert str(index.dialect_options["sqlite"]["where"]) == "pco_id IS NULL"
    with pytest.raises(ArgumentError, match="sqlite_wher"):
        index._validate_dialect_kwargs({"sqlite_wher": text("x")})
