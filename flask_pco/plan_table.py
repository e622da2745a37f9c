"""The table of dry-run plans: what a dry run would change, change by change.

A dry run journals its changes on a scratch database that is thrown away with it; its entries
are copied here first (``sync.preview``), so that the CLI and the admin page can show the plan
after the run and compare it with the real run's journal. Kept apart from ``pco_journal`` so a
plan never shows as history, and pruned to the latest plans only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, Integer, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from flask_pco.journal_table import ChangeColumns

__all__ = ["PlanEntryTable"]


class PlanEntryTable(ChangeColumns):
    """One change a dry run would make: a journal entry's columns, plus the label it had.

    ``run_id`` is the dry run's top run (a full run's, not its steps'); ``label`` names a person
    as the scratch database had them, since a person the run would create exists nowhere else.
    """

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    __tablename__ = "pco_plan"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index("ix_pco_plan_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    #: The step's own run (a full run's step); the same as ``run_id`` for a single step.
    step_run_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
