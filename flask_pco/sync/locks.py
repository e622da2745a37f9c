"""One writer at a time per PCO record, across processes, for as long as a transaction lasts.

A webhook re-fetches its person from PCO and writes what it got. Two deliveries for one
person can re-fetch in one order and commit in the other; PCO's one-second ``updated_at``
cannot tell two edits in the same second apart, so the older answer could win. Taking the
record's lock *before* the re-fetch makes the later writer fetch later too: it always writes
PCO's latest state. PostgreSQL locks the one record (an advisory transaction lock); SQLite
has one writer anyway, and takes its write lock at once rather than at the first write.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text

__all__ = ["lock_record"]


def lock_record(session: Any, kind: str, pco_id: str) -> None:
    """Block until no other transaction holds ``kind``/``pco_id``; held until commit or rollback.

    Rows the session loaded before are expired: what it reads next is what the previous holder
    committed.
    """
    session.flush()  # this transaction's own changes stay; only what it read is re-read
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(kind, pco_id)})
    elif dialect == "sqlite":
        # Any write takes SQLite's single write lock until the transaction ends; this one
        # changes nothing.
        session.execute(text("UPDATE pco_setting SET key = key WHERE 0 = 1"))
    session.expire_all()


def _key(kind: str, pco_id: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, the same in every process."""
    digest = hashlib.blake2b(f"flask-pco:{kind}:{pco_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
