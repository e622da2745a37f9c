"""The indexes a host's PCO-linked tables need, for its own ``__table_args__``."""

from __future__ import annotations

from sqlalchemy import Index, text

__all__ = ["pco_id_index", "pco_unlinked_index"]


def pco_id_index(table_name: str) -> Index:
    """A unique index on ``pco_id`` where it is set, so any number of rows can be unlinked."""
    return Index(
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
    return Index(
        f"ix_{table_name}_unlinked",
        "id",
        sqlite_where=text("pco_id IS NULL"),
        postgresql_where=text("pco_id IS NULL"),
    )
