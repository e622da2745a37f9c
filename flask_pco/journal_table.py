"""The change journal's table: one row per change a run or a webhook delivery made.

Kept beside ``models`` (which maps it onto the host's ``db`` with the extension's other
tables) so that module stays one idea long. Each row carries what an undo needs: the record on
both sides (local id and PCO id), the action, and for an update the field's old and new value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

__all__ = ["JOURNAL_ACTIONS", "JOURNAL_SIDES", "ChangeColumns", "JournalEntryTable", "utcnow"]

#: What a journal entry can say was done to a record.
JOURNAL_ACTIONS = ("create", "update", "deactivate", "remove", "link", "unlink", "merge")
#: Where the change was made: the site's database, or PCO (by a push).
JOURNAL_SIDES = ("local", "pco")


def utcnow() -> datetime:
    """Naive UTC, as every flask-pco table stores times (``models`` cannot be imported here)."""
    return datetime.now(UTC).replace(tzinfo=None)


class ChangeColumns:
    """What one change is, wherever it is kept: the journal, and a dry run's plan."""

    side: Mapped[str] = mapped_column(String(8))  # local, pco
    #: The role of the record: person, email, phone, family, family_member, group, ...
    record_type: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pco_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    #: The logical field an update changed (``last_name``); None for other actions.
    field: Mapped[str | None] = mapped_column(String(80), nullable=True)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: An update's new value; a create's values (all fields); a link's PCO id.
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JournalEntryTable(ChangeColumns):
    """One change, on one side, to one record (one field of it, for an update).

    ``run_id`` names the run that made it, ``delivery_id`` the webhook delivery; an admin's
    own action (a held merge carried out) has neither. No foreign keys: retention prunes runs
    and deliveries on their own schedules, and an entry outlives neither by design.
    """

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    __tablename__ = "pco_journal"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A function: each app's db gets its own Index objects.
        return (
            Index("ix_pco_journal_run", "run_id"),
            Index("ix_pco_journal_delivery", "delivery_id"),
            Index("ix_pco_journal_record", "record_type", "local_id"),
            Index("ix_pco_journal_created", "created_at"),
        )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The church's key on a site of many (``flask_pco.tenancy``); "" for a single church.
    organization: Mapped[str] = mapped_column(String(120), default="", server_default="")
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
