"""The indexes a host's PCO-linked tables need, for its own ``__table_args__``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, text, util

__all__ = ["PartialIndex", "pco_id_index", "pco_unlinked_index"]


class PartialIndex(Index):
    """An ``Index`` whose dialect options (``sqlite_where=``, ``postgresql_where=``) are checked
    when first read, by DDL or Alembic, instead of when the model class is built.

    SQLAlchemy checks them by importing each named dialect, and PostgreSQL's imports all of its
    drivers (~0.1 s): every ``flask pco`` command, ``--help`` included, builds the models, and
    a SQLite site has no use for PostgreSQL's dialect (nor ``--help`` for either).
    """

    def _validate_dialect_kwargs(self, kwargs: dict[str, Any]) -> None:
        if "dialect_options" in self.__dict__:  # already read: check now, as Index does
            super()._validate_dialect_kwargs(kwargs)
        elif kwargs:
            self.__dict__.setdefault("_unchecked_dialect_kwargs", {}).update(kwargs)

    @util.memoized_property
    def dialect_options(self) -> util.PopulateDict[str, Any]:
        options: util.PopulateDict[str, Any] = util.PopulateDict(self._kw_reg_for_dialect_cls)
        self.__dict__["dialect_options"] = options
        super()._validate_dialect_kwargs(self.__dict__.pop("_unchecked_dialect_kwargs", {}))
        return options


def pco_id_index(table_name: str) -> Index:
    """A unique index on ``pco_id`` where it is set, so any number of rows can be unlinked."""
    return PartialIndex(
        f"uq_{table_name}_pco_id",
        "pco_id",
        unique=True,
        sqlite_where=text("pco_id IS NOT NULL"),
        postgresql_where=text("pco_id IS NOT NULL"),
    )


def pco_unlinked_index(table_name: str) -> Index:
    """An index of the rows not linked to PCO yet; the person model should have one.

    Before matching PCO people by email or by name, a pull asks whether any local person is
    still unlinked. Without this index the question reads the whole table on every page (500
    times in a first pull of 50,000 people); with it, it is one look into an index that is
    empty once everyone is linked.
    """
    return PartialIndex(
        f"ix_{table_name}_unlinked",
        "id",
        sqlite_where=text("pco_id IS NULL"),
        postgresql_where=text("pco_id IS NULL"),
    )
